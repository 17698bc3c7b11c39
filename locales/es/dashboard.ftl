# La parte de los padres: panel, inicio de sesión y mensajes.
# Los mismos identificadores que locales/en/dashboard.ftl (lo comprueba tests/it/words.rs).

## Marco de la página e inicio de sesión

dashboard-title = Panel para madres y padres
dashboard-logged-in = Sesión iniciada como { $name }
dashboard-log-out = Cerrar sesión
dashboard-back = Volver al panel
login-heading = Iniciar sesión
login-name = Nombre
login-password = Contraseña
login-button = Entrar
login-too-soon = Demasiado pronto tras una contraseña incorrecta. Espera un segundo y vuelve a intentarlo.
login-busy = Comprobando contraseñas. Vuelve a intentarlo en un momento.
login-wrong = Nombre o contraseña incorrectos.

## Permitir un sitio

dashboard-allow-heading = Permitir un sitio
dashboard-allow-for = para
dashboard-allow-1h = durante 1 hora
dashboard-allow-1day = durante un día
dashboard-allow-always = siempre
dashboard-allow-bedtime = también a la hora de dormir
dashboard-allow-button = Permitir
dashboard-allow-explain = Permitir un sitio levanta los bloqueos por categoría del perfil para ese sitio y sus subdominios. La hora de dormir y otros horarios en los que solo se abre lo permitido siguen vigentes, salvo que marques «{ dashboard-allow-bedtime }». Las listas contra malware y estafas siempre siguen activas.

## Peticiones de desbloqueo

dashboard-asked-heading = Peticiones de desbloqueo
dashboard-approve-1h = Permitir 1 hora
dashboard-approve = Permitir siempre
dashboard-decline = Rechazar

## Permisos vigentes

dashboard-allows-heading = Permisos vigentes
dashboard-no-allows = No hay permisos: cada perfil sigue sus propias reglas.
dashboard-allow-by = por { $who }
dashboard-by-unknown = alguien desconocido
dashboard-by-config = el archivo de configuración
dashboard-ends-until = hasta el { $time }{ $bedtime ->
    [yes] , también a la hora de dormir
   *[no] {""}
}
dashboard-ends-always = { $bedtime ->
    [yes] siempre, también a la hora de dormir
   *[no] siempre
}
dashboard-ends-config = lista de permitidos «{ $category }» en el archivo de configuración { $file }; se cambia allí
dashboard-main-config = (configuración principal)
dashboard-revoke = Retirar

## La ficha de cada hijo o hija

dashboard-child-age = { $age ->
    [one] { $age } año
   *[other] { $age } años
}
dashboard-child-band = franja { $band }
dashboard-band-waiting = { $name } cumplió { $age } años el { $date }: sigue en «{ $band }» hasta que una madre o un padre confirme «{ $next }» (nestguard confirm-band { $id })
dashboard-band-soon = { $name } cumple años el { $date }: pasará entonces de «{ $band }» a «{ $next }», cuando una madre o un padre lo confirme
dashboard-confirm-band = Confirmar la nueva franja
dashboard-paused = Internet en pausa hasta { $time }: solo se puede acceder a las líneas de ayuda.
dashboard-resume = Reanudar ahora
dashboard-pause = Pausar internet:
dashboard-pause-30m = 30 minutos
dashboard-pause-1h = 1 hora
dashboard-pause-morning = hasta las 7:00
dashboard-sees-detailed = { $age ->
    [none] De { $name }
   *[other] De { $name } ({ $age } años)
} ves los sitios visitados y los bloqueados: los niños pequeños necesitan que un adulto mire con ellos.
dashboard-sees-blocked = { $age ->
    [none] De { $name }
   *[other] De { $name } ({ $age } años)
} ves los sitios y categorías bloqueados, no los sitios visitados: quien va creciendo merece privacidad en lo que está permitido.
dashboard-sees-aggregate = { $age ->
    [none] De { $name }
   *[other] De { $name } ({ $age } años)
} solo ves categorías y horarios, ningún sitio: la supervisión se reduce a medida que crecen, y { $name } puede ver que el filtro está activo.
dashboard-other-devices = Otros dispositivos: perfil { $profile }
dashboard-lookups = { $n ->
    [one] { $n } consulta
   *[other] { $n } consultas
}
dashboard-blocked = { $n ->
    [one] { $n } bloqueada
   *[other] { $n } bloqueadas
}
dashboard-online = tiempo en línea: { $time }
dashboard-bypass = intentos de saltarse el filtro: { $n }
dashboard-minutes = { $n } min
dashboard-hours = { $h } h { $m } min
dashboard-active-by-hour = Minutos activos por hora (últimas 24 horas)
dashboard-blocked-by-category = Bloqueos por categoría
dashboard-nothing-blocked = No se ha bloqueado nada en este periodo.
dashboard-devices-gone = Dispositivos que han dejado de usar el filtro (un día sin consultas): { $devices }. ¿Otro servidor DNS, una VPN o simplemente apagados?
dashboard-during = { $n ->
    [one] Durante «{ $window }»: { $n } consulta.
   *[other] Durante «{ $window }»: { $n } consultas.
}
dashboard-blocked-sites = Sitios bloqueados
dashboard-no-activity = Todavía no hay actividad registrada en las últimas 24 horas.

## Dispositivos sin asignar

dashboard-unassigned-heading = Dispositivos sin asignar
dashboard-unassigned-explain = Dispositivos que han hecho consultas últimamente y no son de ningún hijo o hija: reciben el perfil predeterminado.
dashboard-device-placeholder = tableta
dashboard-device-is = es de
dashboard-save = Guardar
dashboard-mac-unknown = desconocida
dashboard-this-computer = { $address } (este ordenador)

## Cambios recientes

dashboard-recent-heading = Cambios recientes

## Cuando un botón no pudo hacer su trabajo

dashboard-not-allowed = No permitido
dashboard-not-revoked = No retirado
dashboard-not-done = No realizado
dashboard-not-assigned = No asignado
dashboard-no-child = No existe ese hijo o hija
dashboard-no-child-text = No hay ningún hijo o hija «{ $id }».
dashboard-security-list = { $name } está en una lista de seguridad ({ $category }); un permiso no puede levantar los bloqueos de malware, phishing y estafas.

## Services: the panel on each child's card, and the minutes spent

dashboard-services = Servicios
dashboard-svc-blocked = bloqueado
dashboard-svc-allowed = permitido
dashboard-svc-budget = { $n } min al día
dashboard-svc-hours = { $from }–{ $to }
dashboard-svc-hours-days = { $from }–{ $to } ({ $days })
dashboard-svc-days-only = todo el día ({ $days })
dashboard-svc-every-day = todos los días
dashboard-day-mon = lun
dashboard-day-tue = mar
dashboard-day-wed = mié
dashboard-day-thu = jue
dashboard-day-fri = vie
dashboard-day-sat = sáb
dashboard-day-sun = dom
dashboard-svc-used = { $used } de { $allowed } min hoy
dashboard-svc-more = +30 min
dashboard-svc-as-configured = Como en la configuración
dashboard-svc-service = Servicio
dashboard-svc-rule = Regla
dashboard-svc-rule-block = bloquear
dashboard-svc-rule-allow = permitir
dashboard-svc-rule-hours = horario permitido
dashboard-svc-rule-budget = tiempo diario
dashboard-svc-rule-config = como en la configuración
dashboard-svc-from = Desde
dashboard-svc-to = Hasta
dashboard-svc-days = Días
dashboard-svc-school = días de colegio
dashboard-svc-weekend = fines de semana
dashboard-svc-minutes = Minutos
dashboard-svc-min-a-day = min al día
dashboard-svc-set = Aplicar
dashboard-svc-explain = Una regla fijada aquí sustituye a la de la configuración para este niño y este servicio; «{ dashboard-svc-rule-config }» vuelve a la configuración.
dashboard-minutes-groups = Minutos hoy por tipo de servicio
dashboard-minutes-services = Minutos hoy por servicio
dashboard-minutes-explain = Un minuto cuenta cuando se consultaron en él los nombres del servicio (las pausas de hasta 3 minutos también cuentan), igual que en los tiempos diarios.
dashboard-group-video = Vídeo
dashboard-group-short-video = Vídeos cortos
dashboard-group-social = Redes sociales
dashboard-group-chat = Chat
dashboard-group-games = Juegos
dashboard-group-ai-chatbots = Chatbots de IA
dashboard-group-dating = Citas
dashboard-group-shopping = Compras
dashboard-group-streaming = Streaming
dashboard-group-music = Música
dashboard-group-gambling = Apuestas
dashboard-group-forums = Foros
dashboard-group-other = Otros
