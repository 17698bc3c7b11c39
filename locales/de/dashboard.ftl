# Die Elternseite: Übersicht, Anmeldung und Meldungen.
# Dieselben IDs wie locales/en/dashboard.ftl (tests/it/words.rs prüft das).

## Seitenrahmen und Anmeldung

dashboard-title = Eltern-Übersicht
dashboard-logged-in = Angemeldet als { $name }
dashboard-log-out = Abmelden
dashboard-back = Zurück zur Übersicht
login-heading = Anmelden
login-name = Name
login-password = Passwort
login-button = Anmelden
login-too-soon = Zu schnell nach einem falschen Passwort. Warten Sie kurz und versuchen Sie es erneut.
login-busy = Passwörter werden gerade geprüft. Versuchen Sie es gleich noch einmal.
login-wrong = Name oder Passwort ist falsch.

## Eine Seite freigeben

dashboard-allow-heading = Eine Seite freigeben
dashboard-allow-for = für
dashboard-allow-1h = für 1 Stunde
dashboard-allow-1day = für einen Tag
dashboard-allow-always = dauerhaft
dashboard-allow-bedtime = auch während der Schlafenszeit
dashboard-allow-button = Freigeben
dashboard-allow-explain = Eine Freigabe hebt die Kategoriesperren des Profils für diese Seite und ihre Subdomains auf. Schlafenszeit und andere Zeiten, in denen nur Freigegebenes erreichbar ist, gelten weiter, außer Sie setzen das Häkchen bei „{ dashboard-allow-bedtime }“. Listen gegen Schadsoftware und Betrug bleiben immer aktiv.

## Bitten um Freigabe

dashboard-asked-heading = Bitten um Freigabe
dashboard-approve-1h = 1 Stunde freigeben
dashboard-approve = Dauerhaft freigeben
dashboard-decline = Ablehnen

## Aktive Freigaben

dashboard-allows-heading = Aktive Freigaben
dashboard-no-allows = Keine Freigaben: Jedes Profil hat seine eigenen Regeln.
dashboard-allow-by = von { $who }
dashboard-by-unknown = einer unbekannten Person
dashboard-by-config = der Konfigurationsdatei
dashboard-ends-until = bis { $time }{ $bedtime ->
    [yes] , auch zur Schlafenszeit
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] dauerhaft, auch zur Schlafenszeit
   *[no] dauerhaft
}
dashboard-ends-config = Freigabeliste für „{ $category }“ in der Konfigurationsdatei { $file }; dort ändern
dashboard-main-config = (Hauptkonfiguration)
dashboard-revoke = Zurücknehmen

## Die Karte eines Kindes

dashboard-child-age = { $age ->
    [one] { $age } Jahr
   *[other] { $age } Jahre
}
dashboard-child-band = Altersstufe { $band }
dashboard-band-waiting = { $name } ist am { $date } { $age } geworden: bleibt auf „{ $band }“, bis ein Elternteil „{ $next }“ bestätigt (nestguard confirm-band { $id })
dashboard-band-soon = { $name } hat am { $date } Geburtstag: wechselt dann von „{ $band }“ zu „{ $next }“, sobald ein Elternteil bestätigt
dashboard-confirm-band = Neue Altersstufe bestätigen
dashboard-paused = Internet pausiert bis { $time }: Nur Hilfsangebote sind erreichbar.
dashboard-resume = Jetzt fortsetzen
dashboard-pause = Internet pausieren:
dashboard-pause-30m = 30 Minuten
dashboard-pause-1h = 1 Stunde
dashboard-pause-morning = bis 7:00 Uhr
dashboard-sees-detailed = { $age ->
    [none] Bei { $name }
   *[other] Bei { $name } ({ $age })
} sehen Sie besuchte und gesperrte Seiten: Kleine Kinder brauchen einen Erwachsenen, der mit hinschaut.
dashboard-sees-blocked = { $age ->
    [none] Bei { $name }
   *[other] Bei { $name } ({ $age })
} sehen Sie gesperrte Seiten und Kategorien, nicht die besuchten Seiten: Ein Kind, das größer wird, bekommt Privatsphäre für das, was erlaubt ist.
dashboard-sees-aggregate = { $age ->
    [none] Bei { $name }
   *[other] Bei { $name } ({ $age })
} sehen Sie nur Kategorien und Zeiten, keine Seiten: Je älter Kinder werden, desto weniger wird mitgesehen, und { $name } kann sehen, dass der Filter aktiv ist.
dashboard-other-devices = Andere Geräte: Profil { $profile }
dashboard-lookups = { $n ->
    [one] { $n } Abfrage
   *[other] { $n } Abfragen
}
dashboard-blocked = { $n } gesperrt
dashboard-online = online: { $time }
dashboard-bypass = Umgehungsversuche: { $n }
dashboard-minutes = { $n } Min.
dashboard-hours = { $h } Std. { $m } Min.
dashboard-active-by-hour = Aktive Minuten pro Stunde (letzte 24 Stunden)
dashboard-blocked-by-category = Gesperrt nach Kategorie
dashboard-nothing-blocked = In diesem Zeitraum wurde nichts gesperrt.
dashboard-devices-gone = Geräte, die den Filter nicht mehr nutzen (seit einem Tag keine Abfrage): { $devices }. Ein anderer DNS-Server, ein VPN oder einfach ausgeschaltet?
dashboard-during = { $n ->
    [one] Während „{ $window }“: { $n } Abfrage.
   *[other] Während „{ $window }“: { $n } Abfragen.
}
dashboard-blocked-sites = Gesperrte Seiten
dashboard-no-activity = In den letzten 24 Stunden wurde noch keine Aktivität aufgezeichnet.

## Geräte ohne Kind

dashboard-unassigned-heading = Nicht zugeordnete Geräte
dashboard-unassigned-explain = Geräte, die in letzter Zeit Anfragen gestellt haben und keinem Kind gehören: Für sie gilt das Standardprofil.
dashboard-device-placeholder = Tablet
dashboard-device-is = gehört
dashboard-save = Speichern
dashboard-mac-unknown = unbekannt
dashboard-this-computer = { $address } (dieser Computer)

## Letzte Änderungen

dashboard-recent-heading = Letzte Änderungen

## Wenn eine Aktion nicht ausgeführt werden konnte

dashboard-not-allowed = Nicht freigegeben
dashboard-not-revoked = Nicht zurückgenommen
dashboard-not-done = Nicht ausgeführt
dashboard-not-assigned = Nicht zugeordnet
dashboard-no-child = Kind nicht gefunden
dashboard-no-child-text = Es gibt kein Kind „{ $id }“.
dashboard-security-list = { $name } steht auf einer Sicherheitsliste ({ $category }); eine Freigabe kann Sperren gegen Schadsoftware, Phishing und Betrug nicht aufheben.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Dienste
dashboard-svc-blocked = gesperrt
dashboard-svc-allowed = erlaubt
dashboard-svc-budget = { $n } Min. pro Tag
dashboard-svc-hours = { $from }–{ $to } Uhr
dashboard-svc-hours-days = { $from }–{ $to } Uhr ({ $days })
dashboard-svc-days-only = ganztägig ({ $days })
dashboard-svc-every-day = jeden Tag
dashboard-day-mon = Mo
dashboard-day-tue = Di
dashboard-day-wed = Mi
dashboard-day-thu = Do
dashboard-day-fri = Fr
dashboard-day-sat = Sa
dashboard-day-sun = So
dashboard-svc-used = heute { $used } von { $allowed } Min.
dashboard-svc-more = +30 Min.
dashboard-svc-as-configured = Wie konfiguriert
dashboard-svc-service = Dienst
dashboard-svc-rule = Regel
dashboard-svc-rule-block = sperren
dashboard-svc-rule-allow = erlauben
dashboard-svc-rule-hours = Öffnungszeiten
dashboard-svc-rule-budget = tägliches Zeitbudget
dashboard-svc-rule-config = wie konfiguriert
dashboard-svc-from = Von
dashboard-svc-to = Bis
dashboard-svc-days = Tage
dashboard-svc-school = Schultage
dashboard-svc-weekend = Wochenenden
dashboard-svc-minutes = Minuten
dashboard-svc-min-a-day = Min. pro Tag
dashboard-svc-set = Festlegen
dashboard-svc-explain = Eine hier festgelegte Regel ersetzt für dieses Kind und diesen Dienst die aus der Konfiguration; „{ dashboard-svc-rule-config }“ kehrt zur Konfiguration zurück.
dashboard-minutes-groups = Minuten heute je Dienstgruppe
dashboard-minutes-services = Minuten heute je Dienst
dashboard-minutes-explain = Eine Minute zählt, wenn in ihr Namen des Dienstes nachgeschlagen wurden (Pausen bis zu 3 Minuten zählen mit), so wie bei den Tagesbudgets.
dashboard-group-video = Video
dashboard-group-short-video = Kurzvideos
dashboard-group-social = Soziale Netzwerke
dashboard-group-chat = Chat
dashboard-group-games = Spiele
dashboard-group-ai-chatbots = KI-Chatbots
dashboard-group-dating = Dating
dashboard-group-shopping = Shopping
dashboard-group-streaming = Streaming
dashboard-group-music = Musik
dashboard-group-gambling = Glücksspiel
dashboard-group-forums = Foren
dashboard-group-other = Sonstiges
