"""The viewer's state, without Qt: what is displayed (:mod:`.display`), class layers (:mod:`.layers`),
pinned pixels (:mod:`.pins`), the model session (:mod:`.session`), rendering to RGBA (:mod:`.rendering`), the
pixel inspector's text (:mod:`.pixel_info`) and spectrum tables (:mod:`.spectra`).

State objects emit psygnal signals; the widgets in :mod:`hsiviewer.gui` mirror them.
"""
