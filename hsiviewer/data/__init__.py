"""What a scene is: :class:`~hsiviewer.data.scene.Scene` (lazy pixels and metadata), the class table of a
label map (:class:`~hsiviewer.data.classes.ClassTable`) and the bundled demo scene (:mod:`.resources`)."""
