"""The rest of tf.nn: losses, moments, morphology, space/depth shuffles, special pools (tf.nn.*)."""
