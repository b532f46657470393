"""Background work for the GUI: core calls on worker threads, progress as signals, cancel."""
