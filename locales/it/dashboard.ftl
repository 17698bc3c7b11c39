# La parte dei genitori: pannello, accesso e messaggi.
# Gli stessi identificatori di locales/en/dashboard.ftl (lo controlla tests/it/words.rs).

## Cornice della pagina e accesso

dashboard-title = Pannello dei genitori
dashboard-logged-in = Accesso effettuato come { $name }
dashboard-log-out = Esci
dashboard-back = Torna al pannello
login-heading = Accedi
login-name = Nome
login-password = Password
login-button = Accedi
login-too-soon = Troppo presto dopo una password sbagliata. Aspetta un secondo e riprova.
login-busy = Verifica delle password in corso. Riprova tra un momento.
login-wrong = Nome o password errati.

## Consentire un sito

dashboard-allow-heading = Consenti un sito
dashboard-allow-for = per
dashboard-allow-1h = per 1 ora
dashboard-allow-1day = per un giorno
dashboard-allow-always = sempre
dashboard-allow-bedtime = anche all'ora di dormire
dashboard-allow-button = Consenti
dashboard-allow-explain = Consentire un sito toglie i blocchi per categoria del profilo per quel sito e i suoi sottodomini. L'ora di dormire e gli altri orari in cui è aperto solo ciò che è consentito restano in vigore, a meno che tu non spunti «{ dashboard-allow-bedtime }». Le liste contro malware e truffe restano sempre attive.

## Richieste di sblocco

dashboard-asked-heading = Richieste di sblocco
dashboard-approve-1h = Consenti per 1 ora
dashboard-approve = Consenti sempre
dashboard-decline = Rifiuta

## Permessi in vigore

dashboard-allows-heading = Permessi in vigore
dashboard-no-allows = Nessun permesso: ogni profilo segue le proprie regole.
dashboard-allow-by = da: { $who }
dashboard-by-unknown = sconosciuto
dashboard-by-config = file di configurazione
dashboard-ends-until = fino al { $time }{ $bedtime ->
    [yes] , anche all'ora di dormire
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] sempre, anche all'ora di dormire
   *[no] sempre
}
dashboard-ends-config = lista di siti consentiti «{ $category }» nel file di configurazione { $file }; si modifica lì
dashboard-main-config = (configurazione principale)
dashboard-revoke = Revoca

## La scheda di un figlio o una figlia

dashboard-child-age = { $age ->
    [one] { $age } anno
   *[other] { $age } anni
}
dashboard-child-band = fascia { $band }
dashboard-band-waiting = { $name } ha compiuto { $age } anni il { $date }: resta in «{ $band }» finché un genitore non conferma «{ $next }» (nestguard confirm-band { $id })
dashboard-band-soon = { $name } compie gli anni il { $date }: passerà da «{ $band }» a «{ $next }», quando un genitore lo confermerà
dashboard-confirm-band = Conferma la nuova fascia
dashboard-paused = Internet in pausa fino a { $time }: sono raggiungibili solo le linee di aiuto.
dashboard-resume = Riprendi ora
dashboard-pause = Metti in pausa internet:
dashboard-pause-30m = 30 minuti
dashboard-pause-1h = 1 ora
dashboard-pause-morning = fino alle 7:00
dashboard-sees-detailed = { $age ->
    [none] Di { $name }
   *[other] Di { $name } ({ $age } anni)
} vedi i siti visitati e quelli bloccati: i bambini piccoli hanno bisogno di un adulto che guardi con loro.
dashboard-sees-blocked = { $age ->
    [none] Di { $name }
   *[other] Di { $name } ({ $age } anni)
} vedi i siti e le categorie bloccati, non i siti visitati: chi cresce ha diritto alla riservatezza su ciò che è consentito.
dashboard-sees-aggregate = { $age ->
    [none] Di { $name }
   *[other] Di { $name } ({ $age } anni)
} vedi solo categorie e orari, nessun sito: il controllo si riduce man mano che i figli crescono, e { $name } può vedere che il filtro è attivo.
dashboard-other-devices = Altri dispositivi: profilo { $profile }
dashboard-lookups = { $n ->
    [one] { $n } richiesta
   *[other] { $n } richieste
}
dashboard-blocked = { $n ->
    [one] { $n } bloccata
   *[other] { $n } bloccate
}
dashboard-online = tempo online: { $time }
dashboard-bypass = tentativi di aggirare il filtro: { $n }
dashboard-minutes = { $n } min
dashboard-hours = { $h } h { $m } min
dashboard-active-by-hour = Minuti attivi per ora (ultime 24 ore)
dashboard-blocked-by-category = Blocchi per categoria
dashboard-nothing-blocked = Nulla è stato bloccato in questo periodo.
dashboard-devices-gone = Dispositivi che non usano più il filtro (un giorno senza richieste): { $devices }. Un altro server DNS, una VPN o semplicemente spenti?
dashboard-during = { $n ->
    [one] Durante «{ $window }»: { $n } richiesta.
   *[other] Durante «{ $window }»: { $n } richieste.
}
dashboard-blocked-sites = Siti bloccati
dashboard-no-activity = Ancora nessuna attività registrata nelle ultime 24 ore.

## Dispositivi non assegnati

dashboard-unassigned-heading = Dispositivi non assegnati
dashboard-unassigned-explain = Dispositivi che hanno fatto richieste di recente e non appartengono a nessun figlio: ricevono il profilo predefinito.
dashboard-device-placeholder = tablet
dashboard-device-is = è di
dashboard-save = Salva
dashboard-mac-unknown = sconosciuto
dashboard-this-computer = { $address } (questo computer)

## Modifiche recenti

dashboard-recent-heading = Modifiche recenti

## Quando un pulsante non ha potuto agire

dashboard-not-allowed = Non consentito
dashboard-not-revoked = Non revocato
dashboard-not-done = Non eseguito
dashboard-not-assigned = Non assegnato
dashboard-no-child = Figlio non trovato
dashboard-no-child-text = Non c'è nessun figlio o figlia «{ $id }».
dashboard-security-list = { $name } è in una lista di sicurezza ({ $category }); un permesso non può togliere i blocchi contro malware, phishing e truffe.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Servizi
dashboard-svc-blocked = bloccato
dashboard-svc-allowed = consentito
dashboard-svc-budget = { $n } min al giorno
dashboard-svc-hours = { $from }–{ $to }
dashboard-svc-hours-days = { $from }–{ $to } ({ $days })
dashboard-svc-days-only = tutto il giorno ({ $days })
dashboard-svc-every-day = tutti i giorni
dashboard-day-mon = lun
dashboard-day-tue = mar
dashboard-day-wed = mer
dashboard-day-thu = gio
dashboard-day-fri = ven
dashboard-day-sat = sab
dashboard-day-sun = dom
dashboard-svc-used = { $used } di { $allowed } min oggi
dashboard-svc-more = +30 min
dashboard-svc-as-configured = Come da configurazione
dashboard-svc-service = Servizio
dashboard-svc-rule = Regola
dashboard-svc-rule-block = bloccare
dashboard-svc-rule-allow = consentire
dashboard-svc-rule-hours = orari consentiti
dashboard-svc-rule-budget = tempo giornaliero
dashboard-svc-rule-config = come da configurazione
dashboard-svc-from = Dalle
dashboard-svc-to = Alle
dashboard-svc-days = Giorni
dashboard-svc-school = giorni di scuola
dashboard-svc-weekend = fine settimana
dashboard-svc-minutes = Minuti
dashboard-svc-min-a-day = min al giorno
dashboard-svc-set = Applica
dashboard-svc-explain = Una regola impostata qui sostituisce quella della configurazione per questo figlio e questo servizio; «{ dashboard-svc-rule-config }» torna alla configurazione.
dashboard-minutes-groups = Minuti oggi per tipo di servizio
dashboard-minutes-services = Minuti oggi per servizio
dashboard-minutes-explain = Un minuto conta quando in esso sono stati cercati i nomi del servizio (contano anche le pause fino a 3 minuti), come per i tempi giornalieri.
dashboard-group-video = Video
dashboard-group-short-video = Video brevi
dashboard-group-social = Social network
dashboard-group-chat = Chat
dashboard-group-games = Giochi
dashboard-group-ai-chatbots = Chatbot IA
dashboard-group-dating = Incontri
dashboard-group-shopping = Shopping
dashboard-group-streaming = Streaming
dashboard-group-music = Musica
dashboard-group-gambling = Gioco d’azzardo
dashboard-group-forums = Forum
dashboard-group-other = Altro
