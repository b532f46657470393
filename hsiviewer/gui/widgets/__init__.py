"""Qt widgets: the map canvas, the display, spectrum, layers, training and results panels."""
