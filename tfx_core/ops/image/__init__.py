"""tf.image's functions: geometry, color, quality metrics, resizing, crops, augmentations, NMS."""
