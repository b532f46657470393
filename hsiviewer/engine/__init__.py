"""The learning engine (torch, scikit-learn): devices, training, the fit loop, inference, predictors, model
files (:mod:`.bundle`) and the jobs the GUI runs in its worker threads (:mod:`.jobs`).

Importing a module of this package imports torch, except :mod:`.preload`, which imports the rest in one
background thread for the GUI. Nothing outside ``engine``, ``models``' builders and the CLI's model commands
imports torch, so the viewer starts without it.
"""
