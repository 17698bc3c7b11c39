# De kant van de ouders: het overzicht, inloggen en meldingen.
# Dezelfde id's als locales/en/dashboard.ftl (tests/it/words.rs controleert dat).

## Paginakader en inloggen

dashboard-title = Ouderoverzicht
dashboard-logged-in = Ingelogd als { $name }
dashboard-log-out = Uitloggen
dashboard-back = Terug naar het overzicht
login-heading = Inloggen
login-name = Naam
login-password = Wachtwoord
login-button = Inloggen
login-too-soon = Te snel na een verkeerd wachtwoord. Wacht even en probeer het opnieuw.
login-busy = Bezig met wachtwoorden controleren. Probeer het zo nog eens.
login-wrong = Naam of wachtwoord klopt niet.

## Een site toestaan

dashboard-allow-heading = Een site toestaan
dashboard-allow-for = voor
dashboard-allow-1h = voor 1 uur
dashboard-allow-1day = voor een dag
dashboard-allow-always = altijd
dashboard-allow-bedtime = ook tijdens bedtijd
dashboard-allow-button = Toestaan
dashboard-allow-explain = Toestaan heft de categorieblokkades van het profiel op voor de site en haar subdomeinen. Bedtijd en andere tijden waarin alleen toegestane sites openstaan blijven gelden, tenzij je „{ dashboard-allow-bedtime }” aanvinkt. Lijsten tegen malware en oplichting blijven altijd aan.

## Vragen om deblokkering

dashboard-asked-heading = Vragen om deblokkering
dashboard-approve-1h = 1 uur toestaan
dashboard-approve = Altijd toestaan
dashboard-decline = Weigeren

## Geldende uitzonderingen

dashboard-allows-heading = Geldende uitzonderingen
dashboard-no-allows = Geen uitzonderingen: elk profiel volgt zijn eigen regels.
dashboard-allow-by = door { $who }
dashboard-by-unknown = onbekend
dashboard-by-config = het configuratiebestand
dashboard-ends-until = tot { $time }{ $bedtime ->
    [yes] , ook tijdens bedtijd
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] altijd, ook tijdens bedtijd
   *[no] altijd
}
dashboard-ends-config = toegestane lijst „{ $category }” in het configuratiebestand { $file }; pas het daar aan
dashboard-main-config = (de hoofdconfiguratie)
dashboard-revoke = Intrekken

## De kaart van een kind

dashboard-child-age = { $age ->
    [one] { $age } jaar
   *[other] { $age } jaar
}
dashboard-child-band = leeftijdsgroep { $band }
dashboard-band-waiting = { $name } werd { $age } op { $date }: blijft op „{ $band }” tot een ouder „{ $next }” bevestigt (nestguard confirm-band { $id })
dashboard-band-soon = { $name } is jarig op { $date }: gaat dan van „{ $band }” naar „{ $next }”, zodra een ouder dat bevestigt
dashboard-confirm-band = Nieuwe leeftijdsgroep bevestigen
dashboard-paused = Internet gepauzeerd tot { $time }: alleen hulplijnen zijn bereikbaar.
dashboard-resume = Nu hervatten
dashboard-pause = Internet pauzeren:
dashboard-pause-30m = 30 minuten
dashboard-pause-1h = 1 uur
dashboard-pause-morning = tot 7:00
dashboard-sees-detailed = { $age ->
    [none] Bij { $name }
   *[other] Bij { $name } ({ $age })
} zie je de bezochte en de geblokkeerde sites: jonge kinderen hebben een volwassene nodig die meekijkt.
dashboard-sees-blocked = { $age ->
    [none] Bij { $name }
   *[other] Bij { $name } ({ $age })
} zie je geblokkeerde sites en categorieën, niet de bezochte sites: een kind dat ouder wordt krijgt privacy voor wat mag.
dashboard-sees-aggregate = { $age ->
    [none] Bij { $name }
   *[other] Bij { $name } ({ $age })
} zie je alleen categorieën en tijden, geen sites: het toezicht neemt af naarmate kinderen ouder worden, en { $name } kan zien dat het filter aan staat.
dashboard-other-devices = Andere apparaten: profiel { $profile }
dashboard-lookups = { $n ->
    [one] { $n } opvraging
   *[other] { $n } opvragingen
}
dashboard-blocked = { $n } geblokkeerd
dashboard-online = online: { $time }
dashboard-bypass = pogingen om het filter te omzeilen: { $n }
dashboard-minutes = { $n } min
dashboard-hours = { $h } u { $m } min
dashboard-active-by-hour = Actieve minuten per uur (afgelopen 24 uur)
dashboard-blocked-by-category = Geblokkeerd per categorie
dashboard-nothing-blocked = In deze periode is niets geblokkeerd.
dashboard-devices-gone = Apparaten die het filter niet meer gebruiken (een dag zonder opvraging): { $devices }. Een andere DNS-server, een VPN, of gewoon uitgezet?
dashboard-during = { $n ->
    [one] Tijdens „{ $window }”: { $n } opvraging.
   *[other] Tijdens „{ $window }”: { $n } opvragingen.
}
dashboard-blocked-sites = Geblokkeerde sites
dashboard-no-activity = Nog geen activiteit vastgelegd in de afgelopen 24 uur.

## Apparaten zonder kind

dashboard-unassigned-heading = Niet-toegewezen apparaten
dashboard-unassigned-explain = Apparaten die de laatste tijd iets opvroegen en van geen enkel kind zijn: ze krijgen het standaardprofiel.
dashboard-device-placeholder = tablet
dashboard-device-is = is van
dashboard-save = Opslaan
dashboard-mac-unknown = onbekend
dashboard-this-computer = { $address } (deze computer)

## Recente wijzigingen

dashboard-recent-heading = Recente wijzigingen

## Als een knop zijn werk niet kon doen

dashboard-not-allowed = Niet toegestaan
dashboard-not-revoked = Niet ingetrokken
dashboard-not-done = Niet gelukt
dashboard-not-assigned = Niet toegewezen
dashboard-no-child = Kind niet gevonden
dashboard-no-child-text = Er is geen kind „{ $id }”.
dashboard-security-list = { $name } staat op een beveiligingslijst ({ $category }); een uitzondering kan blokkades tegen malware, phishing en oplichting niet opheffen.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Diensten
dashboard-svc-blocked = geblokkeerd
dashboard-svc-allowed = toegestaan
dashboard-svc-budget = { $n } min per dag
dashboard-svc-hours = { $from }–{ $to }
dashboard-svc-hours-days = { $from }–{ $to } ({ $days })
dashboard-svc-days-only = de hele dag ({ $days })
dashboard-svc-every-day = elke dag
dashboard-day-mon = ma
dashboard-day-tue = di
dashboard-day-wed = wo
dashboard-day-thu = do
dashboard-day-fri = vr
dashboard-day-sat = za
dashboard-day-sun = zo
dashboard-svc-used = vandaag { $used } van { $allowed } min
dashboard-svc-more = +30 min
dashboard-svc-as-configured = Zoals ingesteld
dashboard-svc-service = Dienst
dashboard-svc-rule = Regel
dashboard-svc-rule-block = blokkeren
dashboard-svc-rule-allow = toestaan
dashboard-svc-rule-hours = openingstijden
dashboard-svc-rule-budget = dagelijkse tijd
dashboard-svc-rule-config = zoals ingesteld
dashboard-svc-from = Van
dashboard-svc-to = Tot
dashboard-svc-days = Dagen
dashboard-svc-school = schooldagen
dashboard-svc-weekend = weekenden
dashboard-svc-minutes = Minuten
dashboard-svc-min-a-day = min per dag
dashboard-svc-set = Instellen
dashboard-svc-explain = Een regel die je hier instelt, vervangt die uit de configuratie voor dit kind en deze dienst; „{ dashboard-svc-rule-config }” gaat terug naar de configuratie.
dashboard-minutes-groups = Minuten vandaag per soort dienst
dashboard-minutes-services = Minuten vandaag per dienst
dashboard-minutes-explain = Een minuut telt als de namen van de dienst erin zijn opgevraagd (pauzes tot 3 minuten tellen mee), net als bij de dagelijkse tijd.
dashboard-group-video = Video
dashboard-group-short-video = Korte video’s
dashboard-group-social = Sociale media
dashboard-group-chat = Chat
dashboard-group-games = Games
dashboard-group-ai-chatbots = AI-chatbots
dashboard-group-dating = Daten
dashboard-group-shopping = Winkelen
dashboard-group-streaming = Streaming
dashboard-group-music = Muziek
dashboard-group-gambling = Gokken
dashboard-group-forums = Forums
dashboard-group-other = Overig
