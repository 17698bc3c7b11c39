# Deutsch. Ids wie in locales/en/nestguard.ftl (Referenz).

## Die Seite „Warum wurde das gesperrt?“

page-blocked-title = Warum wurde das gesperrt?
page-blocked-no-site = Eine gesperrte Seite
page-not-blocked = Diese Seite ist für dich gerade nicht gesperrt. Wenn sie nicht lädt, warte kurz und versuche es noch einmal.
page-no-name = Manche Seiten sind vom Filter deiner Familie gesperrt.
ask-heading = { $age ->
    [young] Sollte die Seite offen sein?
   *[older] Um Freigabe bitten
}
ask-note = Wofür brauchst du sie? (freiwillig)
ask-button = Fragen
help-heading = Brauchst du Hilfe oder macht dir etwas im Internet Sorgen?
help-talk = Sprich mit jemandem:
help-free = Das ist kostenlos, und du musst deinen Namen nicht sagen.
help-sic = Tipps und Rat, wie du sicher im Internet bist:
help-report = Hast du etwas gesehen, das nicht im Internet sein darf, zum Beispiel Bilder, auf denen Kindern wehgetan wird? Melde es:
help-world = Hilfe in anderen Ländern:
link-me = Was macht der Filter bei mir?

## Nach dem Fragen

asked-title = Gefragt
asked-thanks = Danke. Deine Eltern sehen deine Frage.
asked-again = Deine Eltern haben diese Frage schon. Sie werden sie sehen.
asked-not = Nicht gefragt
asked-full-you = Du hast schon fünf Fragen offen. Deine Eltern beantworten zuerst diese.
asked-full = Es warten schon viele Fragen; frag deine Eltern direkt.
asked-expired = Dieses Formular ist abgelaufen; öffne die Seite noch einmal.
asked-security = Niemand kann diese Seite freigeben, weil sie für alle gefährlich ist.
asked-failed = Deine Frage konnte gerade nicht gespeichert werden; frag deine Eltern direkt.

## Was passiert ist

block-title-category = { $age ->
    [young] Diese Webseite ist für dich nicht offen
   *[older] Diese Seite ist für dich gesperrt
}
block-title-security = Diese Seite ist gefährlich
block-title-bedtime = Es ist Schlafenszeit
block-title-schedule = Ruhezeit: { $window }
block-title-paused = Das Internet ist pausiert
block-title-exam = Prüfungszeit
block-title-service-blocked = { $name } ist ausgeschaltet
block-title-service-hours = { $name } ist gerade geschlossen
block-title-budget = Deine Zeit für { $name } ist aufgebraucht

## Warum: je Kategorie, für Jüngere und Ältere

cat-scams-malware = { $age ->
    [young] Diese Webseite will Menschen reinlegen oder Computern schaden. Sie ist für alle bei dir zu Hause gesperrt, auch für Erwachsene.
   *[older] Diese Seite ist für Betrug, Abzocke oder Schadsoftware bekannt. Sie ist für alle in diesem Netz gesperrt, auch für Erwachsene, weil sie Passwörter oder Geld stehlen oder dein Gerät beschädigen kann.
}
cat-bypass = { $age ->
    [young] Diese Webseite kann den Filter ausschalten, der dich im Internet schützt.
   *[older] Das ist ein VPN, ein Proxy oder ein verschlüsselter DNS-Dienst. Er würde den Familienfilter ausschalten, deshalb ist er gesperrt.
}
cat-adult = { $age ->
    [young] Diese Webseite zeigt Dinge, die nur für Erwachsene sind.
   *[older] Diese Seite hat Pornografie oder andere sexuelle Inhalte für Erwachsene. Seiten über sexuelle Gesundheit und Beziehungen bleiben für dich offen.
}
cat-gambling = { $age ->
    [young] Auf dieser Webseite wird um Geld gespielt, und man kann viel davon verlieren.
   *[older] Das ist eine Glücksspielseite. Wetten ist nur für Erwachsene erlaubt, und solche Seiten sind so gebaut, dass man weiterspielt und Geld verliert.
}
cat-violence = { $age ->
    [young] Diese Webseite zeigt, wie Menschen verletzt werden. Solche Bilder können Angst machen und im Kopf bleiben.
   *[older] Diese Seite zeigt echte Gewalt oder blutige Bilder. Solche Bilder können dich lange verfolgen.
}
cat-self-harm = { $age ->
    [young] Auf dieser Webseite geht es darum, dass Menschen sich selbst wehtun. Wenn du traurig bist oder dir Sorgen machst, kannst du mit jemandem reden: schau unten.
   *[older] Diese Seite kann Menschen zu Selbstverletzung oder Suizid drängen. Wenn es dir nicht gut geht, bist du nicht allein: Die Beratung unten ist kostenlos und vertraulich, und Hilfeseiten bleiben für dich offen.
}
cat-drugs = { $age ->
    [young] Auf dieser Webseite geht es um Drogen, Alkohol oder Rauchen, die dem Körper von Kindern schaden.
   *[older] Diese Seite verkauft oder bewirbt Drogen, Alkohol oder Tabak. Seiten mit ehrlichen Gesundheitsinfos bleiben für dich offen.
}
cat-dating = { $age ->
    [young] Diese Webseite ist für Erwachsene, die Fremde kennenlernen wollen.
   *[older] Das ist eine Dating-App oder -Seite. Sie sind für Erwachsene gemacht, und Leute dort sind nicht immer, wer sie vorgeben zu sein.
}
cat-anonymous-chat = { $age ->
    [young] Auf dieser Webseite chattet man mit Fremden, und man kann nicht wissen, wer sie wirklich sind.
   *[older] Das ist ein anonymer Chat mit Fremden. Leute dort können sich als jemand anderes ausgeben, und manche setzen junge Menschen unter Druck.
}
cat-short-video = { $age ->
    [young] Diese App zeigt endlos kurze Videos. Sie ist so gemacht, dass man sehr lange weiterschaut.
   *[older] Das ist eine Kurzvideo-App. Ihr endloser Feed ist dafür gebaut, dass du weiterscrollst.
}
cat-social-media = { $age ->
    [young] Das ist ein soziales Netzwerk. Soziale Netzwerke sind für ältere Kinder und Erwachsene gemacht.
   *[older] Das ist ein soziales Netzwerk. Deine Familie hat entschieden, soziale Medien vorerst auszuschalten.
}
cat-gaming = { $age ->
    [young] Das ist ein Onlinespiel. Deine Familie sucht aus, welche Spiele zu dir passen.
   *[older] Das ist ein Onlinespiel oder eine Spieleplattform. Deine Familie hat entschieden, es vorerst auszuschalten.
}
cat-unsafe-search = { $age ->
    [young] Diese Suche versteckt keine Bilder und Seiten, die nicht für Kinder sind.
   *[older] Diese Suche kann eindeutige Ergebnisse nicht ausblenden, deshalb ist sie gesperrt. Eine Suchmaschine mit SafeSearch funktioniert.
}
cat-piracy = { $age ->
    [young] Diese Webseite verteilt Filme, Musik oder Spiele, ohne die Menschen zu bezahlen, die sie gemacht haben. Auf solchen Seiten verstecken sich oft Tricks und Viren.
   *[older] Diese Seite verbreitet Filme, Musik, Spiele oder Software ohne Erlaubnis. Solche Seiten sind oft voller Schadsoftware und Betrugswerbung.
}
cat-fake-news = { $age ->
    [young] Diese Webseite erzählt oft Dinge, die nicht stimmen.
   *[older] Diese Seite ist dafür bekannt, falsche oder irreführende Nachrichten zu verbreiten.
}
cat-trackers = { $age ->
    [young] Das ist ein versteckter Helfer, der beobachtet, was Menschen im Internet tun. Die Seite, die du wolltest, geht meistens trotzdem.
   *[older] Das ist ein Tracker, der für Werbung aufzeichnet, was du im Internet tust. Die Seite, die du besucht hast, funktioniert meistens auch ohne ihn.
}
cat-other = { $age ->
    [young] Diese Webseite ist in der Gruppe „{ $name }“, die deine Familie gesperrt hat.
   *[older] Diese Seite ist in der Kategorie „{ $name }“, die deine Familie sperrt.
}

## Warum, wenn es nicht an der Seite liegt

why-bedtime = { $age ->
    [young] Zur Schlafenszeit sind nur wenige Webseiten offen, damit du dich ausruhen kannst.
   *[older] Während der Schlafenszeit sind nur die Seiten offen, die deine Familie immer erlaubt.
}
why-schedule = { $age ->
    [young] Gerade sind nur wenige Webseiten offen.
   *[older] Deine Familie hat diese Zeiten festgelegt, damit nur wenige Seiten offen sind.
}
why-paused = { $age ->
    [young] Ein Erwachsener hat das Internet für dich kurz pausiert.
   *[older] Deine Eltern haben das Internet für dich gerade pausiert.
}
why-exam = { $age ->
    [young] Es ist Prüfungszeit, deshalb sind nur die Webseiten für die Prüfung offen.
   *[older] Der Prüfungsmodus ist an: Offen sind nur die Seiten, die für die Prüfung nötig sind.
}
why-service-blocked = { $age ->
    [young] Ein Erwachsener hat { $name } für dich ausgeschaltet.
   *[older] Deine Eltern haben { $name } für dich ausgeschaltet.
}
why-service-hours = { $age ->
    [young] { $name } ist nur zu bestimmten Zeiten am Tag offen, und jetzt ist keine davon.
   *[older] { $name } ist nur zu den Zeiten offen, die deine Familie festgelegt hat.
}
why-budget = { $age ->
    [young] Du hast heute deine ganze Zeit für { $name } verbraucht.
   *[older] Du hast die heutige Zeit für { $name } aufgebraucht.
}

## Was du tun kannst

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Schließ diese Seite und geh zurück. Wenn dich etwas erschreckt hat, erzähl es einem Erwachsenen, dem du vertraust.
        [child] Mach mit dem weiter, was du vorher gemacht hast. Wenn dich etwas im Internet erschreckt oder traurig gemacht hat, erzähl es einem Erwachsenen, dem du vertraust.
        [teen] Wenn sie aus Versehen gesperrt ist, zum Beispiel eine Gesundheits- oder Schulseite, frag unten; deine Eltern entscheiden.
       *[older-teen] Wenn sie aus Versehen gesperrt ist, schreib unten, warum; deine Eltern sehen deine Notiz und entscheiden.
    }
   *[choice] { $band ->
        [young-child] Wenn du sie für die Schule oder etwas Wichtiges brauchst, bitte einen Erwachsenen, sie mit dir zusammen anzuschauen.
        [child] Wenn du denkst, dass sie in Ordnung ist, kannst du deine Eltern bitten, sie freizugeben.
        [teen] Wenn du sie brauchst, frag unten und schreib, warum; deine Eltern entscheiden.
       *[older-teen] Wenn du sie brauchst, frag unten und schreib, warum; deine Eltern sehen deine Notiz und entscheiden.
    }
}
can-security = { $age ->
    [young] Niemand kann sie freigeben, weil sie gefährlich ist. Wenn dich eine Nachricht oder ein Spiel hierher geschickt hat, erzähl es einem Erwachsenen, dem du vertraust.
   *[older] Niemand kann sie freigeben, auch deine Eltern nicht. Wenn dich eine Nachricht, Werbung oder ein Link hierher geschickt hat, gib dort kein Passwort ein, und sag es jemandem, dem du vertraust, falls du es schon getan hast.
}
can-bedtime = { $age ->
    [young] Versuch es morgen wieder. Schlaf gut!
   *[older] Sie öffnet wieder, wenn die Schlafenszeit vorbei ist. Wenn du jetzt etwas brauchst, frag deine Eltern.
}
can-schedule = Sie öffnet wieder, wenn „{ $window }“ vorbei ist.
can-paused = { $age ->
    [young] Es geht bald weiter. Vielleicht ist jetzt Zeit für etwas anderes!
   *[older] Es geht weiter, wenn die Pause vorbei ist. Wenn du jetzt etwas brauchst, frag deine Eltern.
}
can-exam = Nach der Prüfung ist alles wieder offen. Wenn du eine Seite für die Prüfung brauchst, frag deine Lehrkraft oder deine Eltern.
can-service-blocked = Wenn du denkst, dass du es brauchst, frag deine Eltern.
can-service-hours = Versuch es wieder, wenn es offen ist.
can-budget = { $age ->
    [young] Morgen bekommst du neue Zeit. Vielleicht machst du jetzt etwas anderes!
   *[older] Deine Zeit beginnt morgen neu. Wenn du heute mehr brauchst, frag deine Eltern.
}

## Die Seite „Der Filter ist für dich an“

me-title = Der Filter ist für dich an
me-hello = Hallo, { $name }!
me-on = { $age ->
    [young] Deine Familie benutzt einen Filter, der manche Webseiten fernhält, damit du im Internet sicher bist.
   *[older] Deine Familie benutzt nestguard, einen Filter in diesem Netz. Er hält manche Arten von Seiten von deinen Geräten fern und sieht nicht mehr als die Arten, die gesperrt wurden.
}
me-kept-heading = Was ferngehalten wird, und warum
me-kept-none = Für dich werden nur gefährliche Seiten, zum Beispiel Betrugsseiten, ferngehalten.
me-bedtime-heading = Schlafenszeit und Ruhezeiten
me-bedtime-line = { $window }: { $from } bis { $to }
me-bedtime-none = Für dich ist keine Schlafenszeit und keine Ruhezeit eingestellt.
me-budget-heading = Heute noch übrig
me-budget-line = { $service }: noch { $left } von { $allowed } Minuten
me-budget-soon = Nur noch wenige Minuten: Bring zu Ende, was du gerade machst.
me-ask-heading = Wenn eine Seite gesperrt ist, die du brauchst
me-ask = Wenn eine Seite gesperrt ist, steht auf ihrer Seite, warum. Dort kannst du deine Eltern bitten, sie freizugeben, und schreiben, wofür du sie brauchst.
me-help-always = Beratungsstellen und Hilfeseiten sind nie gesperrt.

## Die Desktop-Mitteilung

notice-link = Warum? Um Freigabe bitten

## Ersatz für einen fehlenden Namen

this-service = dieser Dienst
quiet-hours = Ruhezeit

## Namen der Kategorien, wie ein Kind sie sieht

catname-scams-malware = Betrug und Schadsoftware
catname-bypass = Filter umgehen
catname-adult = Sexuelle Inhalte
catname-gambling = Glücksspiel
catname-violence = Gewalt
catname-self-harm = Selbstverletzung und Suizid
catname-drugs = Drogen, Alkohol und Tabak
catname-dating = Dating-Apps
catname-anonymous-chat = Anonymer Chat
catname-short-video = Kurzvideos
catname-social-media = Soziale Medien
catname-gaming = Onlinespiele
catname-unsafe-search = Suche ohne SafeSearch
catname-piracy = Raubkopien
catname-fake-news = Falschinformationen
catname-trackers = Tracker
