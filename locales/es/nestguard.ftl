# Español. Los mismos identificadores que locales/en/nestguard.ftl (la referencia).

## La página «¿Por qué está bloqueado?»

page-blocked-title = ¿Por qué está bloqueado?
page-blocked-no-site = Un sitio bloqueado
page-not-blocked = Este sitio no está bloqueado para ti ahora. Si no se abre, espera un momento y vuelve a intentarlo.
page-no-name = Algunos sitios están bloqueados por el filtro de tu familia.
ask-heading = { $age ->
    [young] ¿Crees que debería estar abierto?
   *[older] Pedir que lo desbloqueen
}
ask-note = ¿Para qué lo necesitas? (opcional)
ask-button = Pedir
help-heading = ¿Necesitas ayuda o te preocupa algo de internet?
help-talk = Habla con alguien:
help-free = Es gratis y no tienes que decir tu nombre.
help-sic = Consejos para estar seguro en internet:
help-report = ¿Has visto algo que no debería estar en internet, como imágenes de niños a los que hacen daño? Denúncialo:
help-world = Ayuda en otros países:
link-me = ¿Qué hace el filtro por mí?

## Después de pedir

asked-title = Pedido
asked-thanks = Gracias. Tus padres verán tu pregunta.
asked-again = Tus padres ya tienen esta pregunta. La verán.
asked-not = No pedido
asked-full-you = Ya tienes cinco preguntas esperando. Tus padres contestarán esas primero.
asked-full = Ya hay muchas preguntas esperando; pregunta directamente a tus padres.
asked-expired = Este formulario ha caducado; vuelve a abrir la página.
asked-security = Nadie puede desbloquear este sitio, porque es peligroso para todos.
asked-failed = Ahora no se ha podido guardar tu pregunta; pregunta directamente a tus padres.

## Qué ha pasado

block-title-category = { $age ->
    [young] Esta web no está abierta para ti
   *[older] Este sitio está bloqueado para ti
}
block-title-security = Este sitio es peligroso
block-title-bedtime = Es hora de dormir
block-title-schedule = Horas de calma: { $window }
block-title-paused = Internet está en pausa
block-title-exam = Hora del examen
block-title-service-blocked = { $name } está desactivado
block-title-service-hours = { $name } está cerrado ahora
block-title-budget = Se ha acabado tu tiempo para { $name }

## Por qué: una por categoría, para los más pequeños y los mayores

cat-scams-malware = { $age ->
    [young] Esta web intenta engañar a la gente o dañar los ordenadores. Está bloqueada para todos en tu casa, también para los adultos.
   *[older] Este sitio es conocido por estafas, fraudes o software malicioso. Está bloqueado para todos en esta red, también para los adultos, porque puede robar contraseñas o dinero o dañar tu dispositivo.
}
cat-bypass = { $age ->
    [young] Esta web puede apagar el filtro que te protege en internet.
   *[older] Es una VPN, un proxy o un servicio de DNS cifrado. Apagaría el filtro familiar, por eso está bloqueado.
}
cat-adult = { $age ->
    [young] Esta web muestra cosas que son solo para adultos.
   *[older] Este sitio tiene pornografía u otro contenido sexual para adultos. Los sitios sobre salud sexual y relaciones siguen abiertos para ti.
}
cat-gambling = { $age ->
    [young] En esta web se juega por dinero, y se puede perder mucho.
   *[older] Es un sitio de apuestas. Apostar es solo para adultos, y estos sitios están hechos para que sigas jugando y perdiendo dinero.
}
cat-violence = { $age ->
    [young] Esta web muestra a personas a las que hacen daño. Esas imágenes pueden dar miedo y quedarse en la cabeza.
   *[older] Este sitio muestra violencia real o imágenes sangrientas. Imágenes así pueden acompañarte mucho tiempo.
}
cat-self-harm = { $age ->
    [young] Esta web trata de personas que se hacen daño a sí mismas. Si estás triste o preocupado, puedes hablar con alguien: mira abajo.
   *[older] Este sitio puede empujar a autolesionarse o al suicidio. Si lo estás pasando mal, no estás solo: las líneas de ayuda de abajo son gratuitas y confidenciales, y los sitios de apoyo siguen abiertos para ti.
}
cat-drugs = { $age ->
    [young] Esta web trata de drogas, alcohol o tabaco, que dañan el cuerpo de los niños.
   *[older] Este sitio vende o promociona drogas, alcohol o tabaco. Los sitios con información sincera sobre salud siguen abiertos para ti.
}
cat-dating = { $age ->
    [young] Esta web es para adultos que quieren conocer a desconocidos.
   *[older] Es una app o un sitio de citas. Están hechos para adultos, y la gente allí no siempre es quien dice ser.
}
cat-anonymous-chat = { $age ->
    [young] En esta web se chatea con desconocidos, y no puedes saber quiénes son de verdad.
   *[older] Es un chat anónimo con desconocidos. La gente allí puede hacerse pasar por otra persona, y algunos presionan a los jóvenes.
}
cat-short-video = { $age ->
    [young] Esta app muestra vídeos cortos sin fin. Está hecha para que sigas mirando mucho tiempo.
   *[older] Es una app de vídeos cortos. Su feed infinito está hecho para que sigas deslizando.
}
cat-social-media = { $age ->
    [young] Es una red social. Las redes sociales están hechas para niños mayores y adultos.
   *[older] Es una red social. Tu familia ha decidido dejar las redes sociales apagadas por ahora.
}
cat-gaming = { $age ->
    [young] Es un juego en línea. Tu familia elige qué juegos son para ti.
   *[older] Es un juego en línea o una plataforma de juegos. Tu familia ha decidido dejarlo apagado por ahora.
}
cat-unsafe-search = { $age ->
    [young] Esta búsqueda no oculta imágenes ni páginas que no son para niños.
   *[older] Esta búsqueda no puede ocultar resultados explícitos, por eso está bloqueada. Un buscador con SafeSearch sí funciona.
}
cat-piracy = { $age ->
    [young] Esta web comparte películas, música o juegos sin pagar a quienes los hicieron. Estas webs suelen esconder trampas y virus.
   *[older] Este sitio comparte películas, música, juegos o programas sin permiso. Estos sitios suelen estar llenos de software malicioso y anuncios engañosos.
}
cat-fake-news = { $age ->
    [young] Esta web dice a menudo cosas que no son verdad.
   *[older] Este sitio es conocido por difundir noticias falsas o engañosas.
}
cat-trackers = { $age ->
    [young] Es un ayudante escondido que mira lo que la gente hace en internet. La página que querías suele funcionar igual.
   *[older] Es un rastreador que registra lo que haces en internet, para publicidad. La página que visitaste suele funcionar sin él.
}
cat-other = { $age ->
    [young] Esta web está en el grupo «{ $name }», que tu familia ha decidido bloquear.
   *[older] Este sitio está en la categoría «{ $name }», que tu familia bloquea.
}

## Por qué, cuando no es por el sitio

why-bedtime = { $age ->
    [young] A la hora de dormir solo hay unas pocas webs abiertas, para que puedas descansar.
   *[older] Durante la hora de dormir solo están abiertos los sitios que tu familia permite siempre.
}
why-schedule = { $age ->
    [young] Ahora mismo solo hay unas pocas webs abiertas.
   *[older] Tu familia ha fijado estas horas para que solo haya unos pocos sitios abiertos.
}
why-paused = { $age ->
    [young] Un adulto ha puesto internet en pausa para ti un ratito.
   *[older] Tus padres han puesto internet en pausa para ti por ahora.
}
why-exam = { $age ->
    [young] Es hora del examen, así que solo están abiertas las webs para el examen.
   *[older] El modo examen está activado: solo están abiertos los sitios necesarios para el examen.
}
why-service-blocked = { $age ->
    [young] Un adulto ha desactivado { $name } para ti.
   *[older] Tus padres han desactivado { $name } para ti.
}
why-service-hours = { $age ->
    [young] { $name } solo está abierto a algunas horas del día, y ahora no es una de ellas.
   *[older] { $name } solo está abierto a las horas que ha fijado tu familia.
}
why-budget = { $age ->
    [young] Hoy has usado todo tu tiempo para { $name }.
   *[older] Has gastado el tiempo de hoy para { $name }.
}

## Qué puedes hacer

can-category = { $kind ->
    [harm] { $band ->
        [young-child] Cierra esta página y vuelve atrás. Si algo te ha asustado, cuéntaselo a un adulto de confianza.
        [child] Vuelve a lo que estabas haciendo. Si algo en internet te ha asustado o puesto triste, cuéntaselo a un adulto de confianza.
        [teen] Si está bloqueado por error, por ejemplo una página de salud o del colegio, pídelo abajo; tus padres deciden.
       *[older-teen] Si está bloqueado por error, explica por qué abajo; tus padres verán tu nota y decidirán.
    }
   *[choice] { $band ->
        [young-child] Si lo necesitas para el colegio o algo importante, pide a un adulto que lo mire contigo.
        [child] Si crees que está bien, puedes pedir a tus padres que lo desbloqueen.
        [teen] Si lo necesitas, pídelo abajo y di por qué; tus padres deciden.
       *[older-teen] Si lo necesitas, pídelo abajo y di por qué; tus padres verán tu nota y decidirán.
    }
}
can-security = { $age ->
    [young] Nadie puede desbloquearlo, porque es peligroso. Si un mensaje o un juego te ha traído aquí, cuéntaselo a un adulto de confianza.
   *[older] Nadie puede desbloquearlo, ni siquiera tus padres. Si un mensaje, un anuncio o un enlace te ha traído aquí, no escribas ninguna contraseña, y cuéntaselo a alguien de confianza si ya lo has hecho.
}
can-bedtime = { $age ->
    [young] Vuelve a intentarlo mañana. ¡Que duermas bien!
   *[older] Se abrirá cuando termine la hora de dormir. Si necesitas algo ahora, pregunta a tus padres.
}
can-schedule = Se abrirá cuando termine «{ $window }».
can-paused = { $age ->
    [young] Vuelve pronto. ¡Quizá es hora de hacer otra cosa!
   *[older] Vuelve cuando termine la pausa. Si necesitas algo ahora, pregunta a tus padres.
}
can-exam = Después del examen todo se abre otra vez. Si necesitas un sitio para el examen, pregunta a tu profesor o a tus padres.
can-service-blocked = Si crees que lo necesitas, pregunta a tus padres.
can-service-hours = Vuelve a intentarlo cuando esté abierto.
can-budget = { $age ->
    [young] Mañana tendrás tiempo nuevo. ¡Quizá ahora puedes hacer otra cosa!
   *[older] Tu tiempo empieza de nuevo mañana. Si hoy necesitas más, pregunta a tus padres.
}

## La página «El filtro está activado para ti»

me-title = El filtro está activado para ti
me-hello = ¡Hola, { $name }!
me-on = { $age ->
    [young] Tu familia usa un filtro que aleja algunas webs, para que estés seguro en internet.
   *[older] Tu familia usa nestguard, un filtro en esta red. Aleja algunos tipos de sitios de tus dispositivos y no ve más que qué tipos se bloquearon.
}
me-kept-heading = Qué se aleja, y por qué
me-kept-none = Para ti solo se alejan los sitios peligrosos, como las estafas.
me-bedtime-heading = Hora de dormir y horas de calma
me-bedtime-line = { $window }: de { $from } a { $to }
me-bedtime-none = No tienes hora de dormir ni horas de calma.
me-budget-heading = Tiempo que te queda hoy
me-budget-line = { $service }: te quedan { $left } de { $allowed } minutos
me-budget-soon = Solo quedan unos minutos: termina lo que estás haciendo.
me-ask-heading = Si está bloqueado un sitio que necesitas
me-ask = Cuando un sitio está bloqueado, su página dice por qué. Allí puedes pedir a tus padres que lo desbloqueen y decir para qué lo necesitas.
me-help-always = Las líneas de ayuda y los sitios de apoyo nunca se bloquean.

## El aviso del escritorio

notice-link = ¿Por qué? Pedir que lo desbloqueen

## Sustitutos de un nombre que falta

this-service = este servicio
quiet-hours = horas de calma

## Nombres de las categorías, como los ve un niño

catname-scams-malware = Estafas y software malicioso
catname-bypass = Saltarse el filtro
catname-adult = Contenido sexual
catname-gambling = Apuestas
catname-violence = Violencia
catname-self-harm = Autolesiones y suicidio
catname-drugs = Drogas, alcohol y tabaco
catname-dating = Apps de citas
catname-anonymous-chat = Chat anónimo
catname-short-video = Vídeos cortos
catname-social-media = Redes sociales
catname-gaming = Juegos en línea
catname-unsafe-search = Búsqueda sin SafeSearch
catname-piracy = Piratería
catname-fake-news = Desinformación
catname-trackers = Rastreadores
