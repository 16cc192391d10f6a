"""Diagnostic reports: what the models did wrong, how often, on which tasks, and what to train next.

``build.build_report`` turns stored runs into a ``model.Report`` (plain data); ``diagnose`` puts each wrong
answer down to a failure mode; ``traces`` loads the traces the HTML report embeds; the renderers
(``terminal``, ``markdown``, ``html`` with ``charts``, ``jsonfmt``, ``junit``) only read a ``Report``;
``write`` picks file names and writes them atomically.
"""
