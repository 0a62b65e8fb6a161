"""The bundled offline demo news site behind ``rasid demo``.

Three fictional Arabic outlets (``sham-today``, ``furat-post``, ``halab-online``) with their
own page shapes, feeds and sitemaps, served on loopback by ``rasid.demo.server.DemoServer``.
The articles are data, one YAML file per outlet in ``articles/`` (read by ``content.py``);
``plan.py`` decides which page carries which trap (``TRAPS``), and ``site.py`` renders the pages
from the Jinja2 templates in ``templates/<outlet>/``.
"""
