"""The bundled offline demo news site behind ``rasid demo``.

Three fictional Arabic outlets (``sham-today``, ``furat-post``, ``halab-online``) with their
own page shapes, feeds and sitemaps, served on loopback by ``rasid.demo.server.DemoServer``.
The articles are data (``content.py`` and the ``articles_*`` modules); ``site.py`` renders
them, together with the traps the pipeline must handle (``site.TRAPS``).
"""
