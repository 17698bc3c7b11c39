# Français. Mêmes identifiants que locales/en/nestguard.ftl (la référence).

## La page « Pourquoi est-ce bloqué ? »

page-blocked-title = Pourquoi est-ce bloqué ?
page-blocked-no-site = Un site bloqué
page-not-blocked = Ce site n'est pas bloqué pour toi en ce moment. S'il ne s'ouvre pas, attends un peu et réessaie.
page-no-name = Certains sites sont bloqués par le filtre de ta famille.
ask-heading = { $age ->
    [young] Tu penses qu'il devrait être ouvert ?
   *[older] Demander le déblocage
}
ask-note = Pourquoi en as-tu besoin ? (facultatif)
ask-button = Demander
help-heading = Besoin d'aide, ou quelque chose en ligne t'inquiète ?
help-talk = Parle à quelqu'un :
help-free = C'est gratuit et tu n'as pas besoin de donner ton nom.
help-sic = Conseils pour être en sécurité en ligne :
help-report = Tu as vu quelque chose qui ne devrait pas être en ligne, comme des images d'enfants maltraités ? Signale-le :
help-world = De l'aide dans d'autres pays :
link-me = Que fait le filtre pour moi ?

## Après la demande

asked-title = Demande envoyée
asked-thanks = Merci. Tes parents verront ta question.
asked-again = Tes parents ont déjà cette question. Ils la verront.
asked-not = Demande non envoyée
asked-full-you = Tu as déjà cinq questions en attente. Tes parents répondront d'abord à celles-là.
asked-full = Beaucoup de questions attendent déjà ; demande directement à tes parents.
asked-expired = Ce formulaire a expiré ; ouvre la page à nouveau.
asked-security = Personne ne peut débloquer ce site, parce qu'il est dangereux pour tout le monde.
asked-failed = Ta question n'a pas pu être enregistrée pour l'instant ; demande directement à tes parents.

## Ce qui s'est passé

block-title-category = { $age ->
    [young] Ce site n'est pas ouvert pour toi
   *[older] Ce site est bloqué pour toi
}
block-title-security = Ce site est dangereux
block-title-bedtime = C'est l'heure de dormir
block-title-schedule = Heures calmes : { $window }
block-title-paused = Internet est en pause
block-title-exam = C'est l'heure de l'examen
block-title-service-blocked = { $name } est désactivé
block-title-service-hours = { $name } est fermé en ce moment
block-title-budget = Ton temps pour { $name } est épuisé

## Pourquoi : une par catégorie, pour les plus jeunes et les plus grands

cat-scams-malware = { $age ->
    [young] Ce site essaie de tromper les gens ou d'abîmer les ordinateurs. Il est bloqué pour tout le monde à la maison, les adultes aussi.
   *[older] Ce site est connu pour des arnaques, des fraudes ou des logiciels malveillants. Il est bloqué pour tout le monde sur ce réseau, adultes compris, parce qu'il peut voler des mots de passe ou de l'argent, ou abîmer ton appareil.
}
cat-bypass = { $age ->
    [young] Ce site peut éteindre le filtre qui te protège en ligne.
   *[older] C'est un VPN, un proxy ou un service de DNS chiffré. Il éteindrait le filtre familial, c'est pourquoi il est bloqué.
}
cat-adult = { $age ->
    [young] Ce site montre des choses réservées aux adultes.
   *[older] Ce site contient de la pornographie ou d'autres contenus sexuels pour adultes. Les sites sur la santé sexuelle et les relations restent ouverts pour toi.
}
cat-gambling = { $age ->
    [young] Sur ce site, on joue pour de l'argent, et on peut en perdre beaucoup.
   *[older] C'est un site de jeux d'argent. Parier est réservé aux adultes, et ces sites sont faits pour qu'on continue à jouer et à perdre de l'argent.
}
cat-violence = { $age ->
    [young] Ce site montre des gens qui sont blessés. Ces images peuvent faire peur et rester dans la tête.
   *[older] Ce site montre de la violence réelle ou des images choquantes. Ces images peuvent te poursuivre longtemps.
}
cat-self-harm = { $age ->
    [young] Ce site parle de personnes qui se font du mal. Si tu es triste ou inquiet, tu peux parler à quelqu'un : regarde en bas.
   *[older] Ce site peut pousser à l'automutilation ou au suicide. Si ça ne va pas, tu n'es pas seul : les lignes d'écoute en bas sont gratuites et confidentielles, et les sites d'aide restent ouverts pour toi.
}
cat-drugs = { $age ->
    [young] Ce site parle de drogues, d'alcool ou de tabac, qui abîment le corps des enfants.
   *[older] Ce site vend ou met en avant des drogues, de l'alcool ou du tabac. Les sites d'information honnête sur la santé restent ouverts pour toi.
}
cat-dating = { $age ->
    [young] Ce site est pour les adultes qui veulent rencontrer des inconnus.
   *[older] C'est une application ou un site de rencontres. Ils sont faits pour les adultes, et les gens n'y sont pas toujours ceux qu'ils prétendent être.
}
cat-anonymous-chat = { $age ->
    [young] Sur ce site, on discute avec des inconnus, et on ne peut pas savoir qui ils sont vraiment.
   *[older] C'est un chat anonyme avec des inconnus. Les gens peuvent s'y faire passer pour quelqu'un d'autre, et certains mettent la pression aux jeunes.
}
cat-short-video = { $age ->
    [young] Cette application montre des vidéos courtes sans fin. Elle est faite pour qu'on regarde très longtemps.
   *[older] C'est une application de vidéos courtes. Son fil sans fin est fait pour que tu continues à défiler.
}
cat-social-media = { $age ->
    [young] C'est un réseau social. Les réseaux sociaux sont faits pour les enfants plus grands et les adultes.
   *[older] C'est un réseau social. Ta famille a choisi de couper les réseaux sociaux pour l'instant.
}
cat-gaming = { $age ->
    [young] C'est un jeu en ligne. Ta famille choisit les jeux qui te conviennent.
   *[older] C'est un jeu en ligne ou une plateforme de jeux. Ta famille a choisi de le couper pour l'instant.
}
cat-unsafe-search = { $age ->
    [young] Cette recherche ne cache pas les images et les pages qui ne sont pas pour les enfants.
   *[older] Cette recherche ne peut pas masquer les résultats explicites, elle est donc bloquée. Un moteur de recherche avec SafeSearch fonctionne.
}
cat-piracy = { $age ->
    [young] Ce site partage des films, de la musique ou des jeux sans payer les personnes qui les ont faits. Ces sites cachent souvent des pièges et des virus.
   *[older] Ce site partage des films, de la musique, des jeux ou des logiciels sans autorisation. Ces sites sont souvent pleins de logiciels malveillants et de publicités frauduleuses.
}
cat-fake-news = { $age ->
    [young] Ce site raconte souvent des choses qui ne sont pas vraies.
   *[older] Ce site est connu pour diffuser des informations fausses ou trompeuses.
}
cat-trackers = { $age ->
    [young] C'est un assistant caché qui observe ce que les gens font en ligne. La page que tu voulais marche en général quand même.
   *[older] C'est un traceur qui enregistre ce que tu fais en ligne, pour la publicité. La page que tu as visitée marche en général sans lui.
}
cat-other = { $age ->
    [young] Ce site est dans le groupe « { $name } », que ta famille a choisi de bloquer.
   *[older] Ce site est dans la catégorie « { $name } », que ta famille bloque.
}

## Pourquoi, quand ce n'est pas à cause du site

why-bedtime = { $age ->
    [young] À l'heure de dormir, seuls quelques sites sont ouverts, pour que tu puisses te reposer.
   *[older] Pendant l'heure du coucher, seuls les sites que ta famille autorise toujours sont ouverts.
}
why-schedule = { $age ->
    [young] En ce moment, seuls quelques sites sont ouverts.
   *[older] Ta famille a fixé ces heures pour que seuls quelques sites soient ouverts.
}
why-paused = { $age ->
    [young] Un adulte a mis Internet en pause pour toi pendant un petit moment.
   *[older] Tes parents ont mis Internet en pause pour toi pour l'instant.
}
why-exam = { $age ->
    [young] C'est l'heure de l'examen, alors seuls les sites pour l'examen sont ouverts.
   *[older] Le mode examen est activé : seuls les sites nécessaires à l'examen sont ouverts.
}
why-service-blocked = { $age ->
    [young] Un adulte a désactivé { $name } pour toi.
   *[older] Tes parents ont désactivé { $name } pour toi.
}
why-service-hours = { $age ->
    [young] { $name } n'est ouvert qu'à certains moments de la journée, et ce n'est pas le cas maintenant.
   *[older] { $name } n'est ouvert qu'aux heures fixées par ta famille.
}
why-budget = { $age ->
    [young] Tu as utilisé tout ton temps pour { $name } aujourd'hui.
   *[older] Tu as épuisé ton temps du jour pour { $name }.
}

## Ce que tu peux faire

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Ferme cette page et reviens en arrière. Si quelque chose t'a fait peur, parles-en à un adulte en qui tu as confiance.
        [child] Reprends ce que tu faisais. Si quelque chose en ligne t'a fait peur ou de la peine, parles-en à un adulte en qui tu as confiance.
        [teen] S'il est bloqué par erreur, par exemple une page de santé ou d'école, demande en bas ; tes parents décident.
       *[older-teen] S'il est bloqué par erreur, explique pourquoi en bas ; tes parents verront ta note et décideront.
    }
   *[choice] { $band ->
        [young-child] Si tu en as besoin pour l'école ou pour quelque chose d'important, demande à un adulte de le regarder avec toi.
        [child] Si tu penses qu'il n'y a pas de problème, tu peux demander à tes parents de le débloquer.
        [teen] Si tu en as besoin, demande en bas et dis pourquoi ; tes parents décident.
       *[older-teen] Si tu en as besoin, demande en bas et dis pourquoi ; tes parents verront ta note et décideront.
    }
}
can-security = { $age ->
    [young] Personne ne peut le débloquer, parce qu'il est dangereux. Si un message ou un jeu t'a envoyé ici, parles-en à un adulte en qui tu as confiance.
   *[older] Personne ne peut le débloquer, pas même tes parents. Si un message, une publicité ou un lien t'a envoyé ici, n'y tape aucun mot de passe, et parles-en à quelqu'un de confiance si tu l'as déjà fait.
}
can-bedtime = { $age ->
    [young] Réessaie demain. Dors bien !
   *[older] Il s'ouvrira à la fin de l'heure du coucher. Si tu as besoin de quelque chose maintenant, demande à tes parents.
}
can-schedule = Il s'ouvrira à la fin de « { $window } ».
can-paused = { $age ->
    [young] Ça revient bientôt. C'est peut-être le moment de faire autre chose !
   *[older] Ça revient à la fin de la pause. Si tu as besoin de quelque chose maintenant, demande à tes parents.
}
can-exam = Après l'examen, tout se rouvre. Si tu as besoin d'un site pour l'examen, demande à ton enseignant ou à tes parents.
can-service-blocked = Si tu penses en avoir besoin, demande à tes parents.
can-service-hours = Réessaie quand il sera ouvert.
can-budget = { $age ->
    [young] Tu auras du temps à nouveau demain. Fais peut-être autre chose maintenant !
   *[older] Ton temps recommence demain. Si tu as besoin de plus aujourd'hui, demande à tes parents.
}

## La page « Le filtre est activé pour toi »

me-title = Le filtre est activé pour toi
me-hello = Bonjour, { $name } !
me-on = { $age ->
    [young] Ta famille utilise un filtre qui tient certains sites à l'écart, pour que tu sois en sécurité en ligne.
   *[older] Ta famille utilise nestguard, un filtre sur ce réseau. Il tient certains types de sites à l'écart de tes appareils et ne voit rien de plus que les types bloqués.
}
me-kept-heading = Ce qui est tenu à l'écart, et pourquoi
me-kept-none = Pour toi, seuls les sites dangereux, comme les arnaques, sont tenus à l'écart.
me-bedtime-heading = Heure du coucher et heures calmes
me-bedtime-line = { $window } : de { $from } à { $to }
me-bedtime-none = Aucune heure du coucher ni heure calme n'est fixée pour toi.
me-budget-heading = Temps restant aujourd'hui
me-budget-line = { $service } : encore { $left } minutes sur { $allowed }
me-budget-soon = Plus que quelques minutes : termine ce que tu fais.
me-ask-heading = Si un site dont tu as besoin est bloqué
me-ask = Quand un site est bloqué, sa page dit pourquoi. Là, tu peux demander à tes parents de le débloquer et dire pourquoi tu en as besoin.
me-help-always = Les lignes d'écoute et les sites d'aide ne sont jamais bloqués.

## La notification

notice-link = Pourquoi ? Demander le déblocage

## Remplacements pour un nom manquant

this-service = ce service
quiet-hours = heures calmes

## Noms des catégories, tels qu'un enfant les voit

catname-scams-malware = Arnaques et logiciels malveillants
catname-bypass = Contournement du filtre
catname-adult = Contenu sexuel
catname-gambling = Jeux d'argent
catname-violence = Violence
catname-self-harm = Automutilation et suicide
catname-drugs = Drogues, alcool et tabac
catname-dating = Sites de rencontres
catname-anonymous-chat = Chat anonyme
catname-short-video = Vidéos courtes
catname-social-media = Réseaux sociaux
catname-gaming = Jeux en ligne
catname-unsafe-search = Recherche sans SafeSearch
catname-piracy = Piratage
catname-fake-news = Désinformation
catname-trackers = Traceurs
