# Italiano. Gli stessi identificatori di locales/en/nestguard.ftl (il riferimento).

## La pagina «Perché è bloccato?»

page-blocked-title = Perché è bloccato?
page-blocked-no-site = Un sito bloccato
page-not-blocked = Questo sito non è bloccato per te adesso. Se non si apre, aspetta un momento e riprova.
page-no-name = Alcuni siti sono bloccati dal filtro della tua famiglia.
ask-heading = { $age ->
    [young] Pensi che dovrebbe essere aperto?
   *[older] Chiedi di sbloccarlo
}
ask-note = Perché ti serve? (facoltativo)
ask-button = Chiedi
help-heading = Hai bisogno di aiuto o qualcosa online ti preoccupa?
help-talk = Parla con qualcuno:
help-free = È gratis e non devi dire il tuo nome.
help-sic = Consigli per stare sicuri online:
help-report = Hai visto qualcosa che non dovrebbe essere online, come immagini di bambini a cui viene fatto del male? Segnalalo:
help-world = Aiuto in altri paesi:
link-me = Che cosa fa il filtro per me?

## Dopo aver chiesto

asked-title = Chiesto
asked-thanks = Grazie. I tuoi genitori vedranno la tua domanda.
asked-again = I tuoi genitori hanno già questa domanda. La vedranno.
asked-not = Non chiesto
asked-full-you = Hai già cinque domande in attesa. I tuoi genitori risponderanno prima a quelle.
asked-full = Ci sono già molte domande in attesa; chiedi direttamente ai tuoi genitori.
asked-expired = Questo modulo è scaduto; apri di nuovo la pagina.
asked-security = Nessuno può sbloccare questo sito, perché è pericoloso per tutti.
asked-failed = Ora non è stato possibile salvare la tua domanda; chiedi direttamente ai tuoi genitori.

## Che cosa è successo

block-title-category = { $age ->
    [young] Questo sito non è aperto per te
   *[older] Questo sito è bloccato per te
}
block-title-security = Questo sito è pericoloso
block-title-bedtime = È ora di dormire
block-title-schedule = Ore tranquille: { $window }
block-title-paused = Internet è in pausa
block-title-exam = Ora dell'esame
block-title-service-blocked = { $name } è spento
block-title-service-hours = { $name } è chiuso adesso
block-title-budget = Il tuo tempo per { $name } è finito

## Perché: una per categoria, per i più piccoli e i più grandi

cat-scams-malware = { $age ->
    [young] Questo sito cerca di ingannare le persone o di danneggiare i computer. È bloccato per tutti a casa tua, anche per gli adulti.
   *[older] Questo sito è noto per truffe, frodi o malware. È bloccato per tutti su questa rete, anche per gli adulti, perché può rubare password o soldi o danneggiare il tuo dispositivo.
}
cat-bypass = { $age ->
    [young] Questo sito può spegnere il filtro che ti protegge online.
   *[older] È una VPN, un proxy o un servizio DNS cifrato. Spegnerebbe il filtro di famiglia, per questo è bloccato.
}
cat-adult = { $age ->
    [young] Questo sito mostra cose che sono solo per adulti.
   *[older] Questo sito ha pornografia o altri contenuti sessuali per adulti. I siti sulla salute sessuale e sulle relazioni restano aperti per te.
}
cat-gambling = { $age ->
    [young] Su questo sito si gioca con i soldi, e se ne possono perdere tanti.
   *[older] È un sito di gioco d'azzardo. Scommettere è solo per adulti, e questi siti sono fatti per farti continuare a giocare e a perdere soldi.
}
cat-violence = { $age ->
    [young] Questo sito mostra persone che vengono ferite. Immagini così possono fare paura e restare in testa.
   *[older] Questo sito mostra violenza reale o immagini cruente. Immagini così possono restarti dentro a lungo.
}
cat-self-harm = { $age ->
    [young] Questo sito parla di persone che si fanno del male. Se sei triste o preoccupato, puoi parlare con qualcuno: guarda qui sotto.
   *[older] Questo sito può spingere all'autolesionismo o al suicidio. Se stai male, non sei solo: le linee di ascolto qui sotto sono gratuite e riservate, e i siti di supporto restano aperti per te.
}
cat-drugs = { $age ->
    [young] Questo sito parla di droghe, alcol o fumo, che fanno male al corpo dei bambini.
   *[older] Questo sito vende o promuove droghe, alcol o tabacco. I siti con informazioni oneste sulla salute restano aperti per te.
}
cat-dating = { $age ->
    [young] Questo sito è per adulti che vogliono conoscere sconosciuti.
   *[older] È un'app o un sito di incontri. Sono fatti per adulti, e le persone lì non sono sempre chi dicono di essere.
}
cat-anonymous-chat = { $age ->
    [young] Su questo sito si chatta con sconosciuti, e non puoi sapere chi sono davvero.
   *[older] È una chat anonima con sconosciuti. Le persone lì possono fingere di essere qualcun altro, e alcune fanno pressione sui ragazzi.
}
cat-short-video = { $age ->
    [young] Questa app mostra video brevi senza fine. È fatta per farti guardare per tantissimo tempo.
   *[older] È un'app di video brevi. Il suo feed infinito è fatto per farti continuare a scorrere.
}
cat-social-media = { $age ->
    [young] È un social network. I social network sono fatti per ragazzi più grandi e adulti.
   *[older] È un social network. La tua famiglia ha scelto di tenere spenti i social per ora.
}
cat-gaming = { $age ->
    [young] È un gioco online. La tua famiglia sceglie quali giochi vanno bene per te.
   *[older] È un gioco online o una piattaforma di giochi. La tua famiglia ha scelto di tenerlo spento per ora.
}
cat-unsafe-search = { $age ->
    [young] Questa ricerca non nasconde immagini e pagine che non sono per bambini.
   *[older] Questa ricerca non può nascondere i risultati espliciti, quindi è bloccata. Un motore di ricerca con SafeSearch funziona.
}
cat-piracy = { $age ->
    [young] Questo sito condivide film, musica o giochi senza pagare chi li ha fatti. Siti così nascondono spesso trucchi e virus.
   *[older] Questo sito condivide film, musica, giochi o programmi senza permesso. Siti così sono spesso pieni di malware e pubblicità truffaldine.
}
cat-fake-news = { $age ->
    [young] Questo sito dice spesso cose che non sono vere.
   *[older] Questo sito è noto per diffondere notizie false o fuorvianti.
}
cat-trackers = { $age ->
    [young] È un aiutante nascosto che guarda cosa fanno le persone online. La pagina che volevi di solito funziona lo stesso.
   *[older] È un tracker che registra cosa fai online, per la pubblicità. La pagina che hai visitato di solito funziona anche senza.
}
cat-other = { $age ->
    [young] Questo sito è nel gruppo «{ $name }», che la tua famiglia ha scelto di bloccare.
   *[older] Questo sito è nella categoria «{ $name }», che la tua famiglia blocca.
}

## Perché, quando non dipende dal sito

why-bedtime = { $age ->
    [young] All'ora di dormire sono aperti solo pochi siti, così puoi riposare.
   *[older] Durante l'ora di dormire sono aperti solo i siti che la tua famiglia permette sempre.
}
why-schedule = { $age ->
    [young] Adesso sono aperti solo pochi siti.
   *[older] La tua famiglia ha fissato questi orari perché siano aperti solo pochi siti.
}
why-paused = { $age ->
    [young] Un adulto ha messo in pausa internet per te per un po'.
   *[older] I tuoi genitori hanno messo in pausa internet per te per ora.
}
why-exam = { $age ->
    [young] È l'ora dell'esame, quindi sono aperti solo i siti per l'esame.
   *[older] La modalità esame è attiva: sono aperti solo i siti necessari per l'esame.
}
why-service-blocked = { $age ->
    [young] Un adulto ha spento { $name } per te.
   *[older] I tuoi genitori hanno spento { $name } per te.
}
why-service-hours = { $age ->
    [young] { $name } è aperto solo in alcuni momenti della giornata, e adesso non è uno di quelli.
   *[older] { $name } è aperto solo negli orari decisi dalla tua famiglia.
}
why-budget = { $age ->
    [young] Oggi hai usato tutto il tuo tempo per { $name }.
   *[older] Hai finito il tempo di oggi per { $name }.
}

## Che cosa puoi fare

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Chiudi questa pagina e torna indietro. Se qualcosa ti ha spaventato, dillo a un adulto di cui ti fidi.
        [child] Torna a quello che stavi facendo. Se qualcosa online ti ha spaventato o rattristato, dillo a un adulto di cui ti fidi.
        [teen] Se è bloccato per errore, per esempio una pagina di salute o di scuola, chiedi qui sotto; decidono i tuoi genitori.
       *[older-teen] Se è bloccato per errore, spiega perché qui sotto; i tuoi genitori vedranno la tua nota e decideranno.
    }
   *[choice] { $band ->
        [young-child] Se ti serve per la scuola o per qualcosa di importante, chiedi a un adulto di guardarlo insieme a te.
        [child] Se pensi che vada bene, puoi chiedere ai tuoi genitori di sbloccarlo.
        [teen] Se ti serve, chiedi qui sotto e spiega perché; decidono i tuoi genitori.
       *[older-teen] Se ti serve, chiedi qui sotto e spiega perché; i tuoi genitori vedranno la tua nota e decideranno.
    }
}
can-security = { $age ->
    [young] Nessuno può sbloccarlo, perché è pericoloso. Se un messaggio o un gioco ti ha mandato qui, dillo a un adulto di cui ti fidi.
   *[older] Nessuno può sbloccarlo, nemmeno i tuoi genitori. Se un messaggio, una pubblicità o un link ti ha mandato qui, non scrivere nessuna password, e dillo a qualcuno di cui ti fidi se l'hai già fatto.
}
can-bedtime = { $age ->
    [young] Riprova domani. Dormi bene!
   *[older] Si riapre quando finisce l'ora di dormire. Se ti serve qualcosa adesso, chiedi ai tuoi genitori.
}
can-schedule = Si riapre quando finisce «{ $window }».
can-paused = { $age ->
    [young] Torna presto. Forse è il momento di fare qualcos'altro!
   *[older] Torna quando finisce la pausa. Se ti serve qualcosa adesso, chiedi ai tuoi genitori.
}
can-exam = Dopo l'esame si riapre tutto. Se ti serve un sito per l'esame, chiedi al tuo insegnante o ai tuoi genitori.
can-service-blocked = Se pensi che ti serva, chiedi ai tuoi genitori.
can-service-hours = Riprova quando è aperto.
can-budget = { $age ->
    [young] Domani avrai di nuovo tempo. Forse adesso puoi fare qualcos'altro!
   *[older] Il tuo tempo ricomincia domani. Se oggi te ne serve di più, chiedi ai tuoi genitori.
}

## La pagina «Il filtro è attivo per te»

me-title = Il filtro è attivo per te
me-hello = Ciao, { $name }!
me-on = { $age ->
    [young] La tua famiglia usa un filtro che tiene lontani alcuni siti, per farti stare sicuro online.
   *[older] La tua famiglia usa nestguard, un filtro su questa rete. Tiene lontani alcuni tipi di siti dai tuoi dispositivi e non vede altro che quali tipi sono stati bloccati.
}
me-kept-heading = Che cosa viene tenuto lontano, e perché
me-kept-none = Per te vengono tenuti lontani solo i siti pericolosi, come le truffe.
me-bedtime-heading = Ora di dormire e ore tranquille
me-bedtime-line = { $window }: dalle { $from } alle { $to }
me-bedtime-none = Per te non ci sono ora di dormire né ore tranquille.
me-budget-heading = Tempo rimasto oggi
me-budget-line = { $service }: ancora { $left } minuti su { $allowed }
me-budget-soon = Restano pochi minuti: finisci quello che stai facendo.
me-ask-heading = Se è bloccato un sito che ti serve
me-ask = Quando un sito è bloccato, la sua pagina dice perché. Lì puoi chiedere ai tuoi genitori di sbloccarlo e spiegare perché ti serve.
me-help-always = Le linee di ascolto e i siti di supporto non sono mai bloccati.

## La notifica

notice-link = Perché? Chiedi di sbloccarlo

## Sostituti per un nome mancante

this-service = questo servizio
quiet-hours = ore tranquille

## Nomi delle categorie, come li vede un bambino

catname-scams-malware = Truffe e malware
catname-bypass = Aggirare il filtro
catname-adult = Contenuti sessuali
catname-gambling = Gioco d'azzardo
catname-violence = Violenza
catname-self-harm = Autolesionismo e suicidio
catname-drugs = Droghe, alcol e tabacco
catname-dating = App di incontri
catname-anonymous-chat = Chat anonime
catname-short-video = Video brevi
catname-social-media = Social network
catname-gaming = Giochi online
catname-unsafe-search = Ricerca senza SafeSearch
catname-piracy = Pirateria
catname-fake-news = Disinformazione
catname-trackers = Tracker
