# Le côté des parents : tableau de bord, connexion et messages.
# Mêmes identifiants que locales/en/dashboard.ftl (vérifié par tests/it/words.rs).

## Cadre de la page et connexion

dashboard-title = Espace parents
dashboard-logged-in = Connecté·e en tant que { $name }
dashboard-log-out = Se déconnecter
dashboard-back = Retour au tableau de bord
login-heading = Connexion
login-name = Nom
login-password = Mot de passe
login-button = Se connecter
login-too-soon = Trop tôt après un mot de passe erroné. Patientez une seconde, puis réessayez.
login-busy = Vérification des mots de passe en cours. Réessayez dans un instant.
login-wrong = Nom ou mot de passe incorrect.

## Autoriser un site

dashboard-allow-heading = Autoriser un site
dashboard-allow-for = pour
dashboard-allow-1h = pendant 1 heure
dashboard-allow-1day = pendant une journée
dashboard-allow-always = toujours
dashboard-allow-bedtime = aussi à l'heure du coucher
dashboard-allow-button = Autoriser
dashboard-allow-explain = Autoriser un site lève les blocages par catégorie du profil pour ce site et ses sous-domaines. L'heure du coucher et les autres plages où seuls les sites autorisés sont ouverts restent en vigueur, sauf si vous cochez « { dashboard-allow-bedtime } ». Les listes contre les logiciels malveillants et les arnaques restent toujours actives.

## Demandes de déblocage

dashboard-asked-heading = Demandes de déblocage
dashboard-approve-1h = Autoriser 1 heure
dashboard-approve = Autoriser toujours
dashboard-decline = Refuser

## Autorisations en vigueur

dashboard-allows-heading = Autorisations en vigueur
dashboard-no-allows = Aucune autorisation : chaque profil suit ses propres règles.
dashboard-allow-by = par { $who }
dashboard-by-unknown = une personne inconnue
dashboard-by-config = le fichier de configuration
dashboard-ends-until = jusqu'au { $time }{ $bedtime ->
    [yes] , aussi à l'heure du coucher
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] toujours, aussi à l'heure du coucher
   *[no] toujours
}
dashboard-ends-config = liste d'autorisations « { $category } » dans le fichier de configuration { $file } ; à modifier là-bas
dashboard-main-config = (configuration principale)
dashboard-revoke = Retirer

## La fiche d'un enfant

dashboard-child-age = { $age ->
    [one] { $age } an
   *[other] { $age } ans
}
dashboard-child-band = tranche d'âge { $band }
dashboard-band-waiting = { $name } a eu { $age } ans le { $date } : reste sur « { $band } » jusqu'à ce qu'un parent confirme « { $next } » (nestguard confirm-band { $id })
dashboard-band-soon = { $name } fête son anniversaire le { $date } : passera alors de « { $band } » à « { $next } », une fois qu'un parent aura confirmé
dashboard-confirm-band = Confirmer la nouvelle tranche d'âge
dashboard-paused = Internet en pause jusqu'à { $time } : seules les lignes d'aide restent accessibles.
dashboard-resume = Reprendre maintenant
dashboard-pause = Mettre Internet en pause :
dashboard-pause-30m = 30 minutes
dashboard-pause-1h = 1 heure
dashboard-pause-morning = jusqu'à 7 h
dashboard-sees-detailed = { $age ->
    [none] Pour { $name },
   *[other] Pour { $name } ({ $age } ans),
} vous voyez les sites visités et les sites bloqués : les jeunes enfants ont besoin qu'un adulte regarde avec eux.
dashboard-sees-blocked = { $age ->
    [none] Pour { $name },
   *[other] Pour { $name } ({ $age } ans),
} vous voyez les sites et catégories bloqués, pas les sites visités : un enfant qui grandit a droit à une vie privée pour ce qui est permis.
dashboard-sees-aggregate = { $age ->
    [none] Pour { $name },
   *[other] Pour { $name } ({ $age } ans),
} vous ne voyez que des catégories et des horaires, aucun site : la surveillance diminue à mesure que les enfants grandissent, et { $name } peut voir que le filtre est actif.
dashboard-other-devices = Autres appareils : profil { $profile }
dashboard-lookups = { $n ->
    [one] { $n } requête
   *[other] { $n } requêtes
}
dashboard-blocked = { $n ->
    [one] { $n } bloquée
   *[other] { $n } bloquées
}
dashboard-online = temps en ligne : { $time }
dashboard-bypass = tentatives de contournement : { $n }
dashboard-minutes = { $n } min
dashboard-hours = { $h } h { $m } min
dashboard-active-by-hour = Minutes actives par heure (dernières 24 heures)
dashboard-blocked-by-category = Blocages par catégorie
dashboard-nothing-blocked = Rien n'a été bloqué sur cette période.
dashboard-devices-gone = Appareils qui n'utilisent plus le filtre (aucune requête depuis un jour) : { $devices }. Un autre résolveur DNS, un VPN, ou simplement éteints ?
dashboard-during = { $n ->
    [one] Pendant « { $window } » : { $n } requête.
   *[other] Pendant « { $window } » : { $n } requêtes.
}
dashboard-blocked-sites = Sites bloqués
dashboard-no-activity = Aucune activité enregistrée ces dernières 24 heures pour l'instant.

## Appareils sans enfant

dashboard-unassigned-heading = Appareils non attribués
dashboard-unassigned-explain = Appareils actifs récemment qui n'appartiennent à aucun enfant : ils reçoivent le profil par défaut.
dashboard-device-placeholder = tablette
dashboard-device-is = appartient à
dashboard-save = Enregistrer
dashboard-mac-unknown = inconnue
dashboard-this-computer = { $address } (cet ordinateur)

## Modifications récentes

dashboard-recent-heading = Modifications récentes

## Quand un bouton n'a pas pu agir

dashboard-not-allowed = Non autorisé
dashboard-not-revoked = Non retiré
dashboard-not-done = Action non effectuée
dashboard-not-assigned = Non attribué
dashboard-no-child = Enfant introuvable
dashboard-no-child-text = Il n'y a pas d'enfant « { $id } ».
dashboard-security-list = { $name } figure sur une liste de sécurité ({ $category }) ; une autorisation ne peut pas lever les blocages contre les logiciels malveillants, l'hameçonnage et les arnaques.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Services
dashboard-svc-blocked = bloqué
dashboard-svc-allowed = autorisé
dashboard-svc-budget = { $n } min par jour
dashboard-svc-hours = { $from }–{ $to }
dashboard-svc-hours-days = { $from }–{ $to } ({ $days })
dashboard-svc-days-only = toute la journée ({ $days })
dashboard-svc-every-day = tous les jours
dashboard-day-mon = lun.
dashboard-day-tue = mar.
dashboard-day-wed = mer.
dashboard-day-thu = jeu.
dashboard-day-fri = ven.
dashboard-day-sat = sam.
dashboard-day-sun = dim.
dashboard-svc-used = { $used } sur { $allowed } min aujourd’hui
dashboard-svc-more = +30 min
dashboard-svc-as-configured = Comme configuré
dashboard-svc-service = Service
dashboard-svc-rule = Règle
dashboard-svc-rule-block = bloquer
dashboard-svc-rule-allow = autoriser
dashboard-svc-rule-hours = horaires d’ouverture
dashboard-svc-rule-budget = temps quotidien
dashboard-svc-rule-config = comme configuré
dashboard-svc-from = De
dashboard-svc-to = À
dashboard-svc-days = Jours
dashboard-svc-school = jours d’école
dashboard-svc-weekend = week-ends
dashboard-svc-minutes = Minutes
dashboard-svc-min-a-day = min par jour
dashboard-svc-set = Appliquer
dashboard-svc-explain = Une règle fixée ici remplace celle de la configuration pour cet enfant et ce service ; « { dashboard-svc-rule-config } » revient à la configuration.
dashboard-minutes-groups = Minutes aujourd’hui par type de service
dashboard-minutes-services = Minutes aujourd’hui par service
dashboard-minutes-explain = Une minute compte quand les noms du service y ont été demandés (les pauses de 3 minutes au plus comptent aussi), comme pour les temps quotidiens.
dashboard-group-video = Vidéo
dashboard-group-short-video = Vidéos courtes
dashboard-group-social = Réseaux sociaux
dashboard-group-chat = Messagerie
dashboard-group-games = Jeux
dashboard-group-ai-chatbots = Chatbots IA
dashboard-group-dating = Rencontres
dashboard-group-shopping = Achats
dashboard-group-streaming = Streaming
dashboard-group-music = Musique
dashboard-group-gambling = Jeux d’argent
dashboard-group-forums = Forums
dashboard-group-other = Autres
