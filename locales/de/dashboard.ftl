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
