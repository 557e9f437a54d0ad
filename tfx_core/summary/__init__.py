"""`tx.summary`: TensorBoard event files (tf.summary's writers and summaries), on tensorboardX."""
from tfx_core.summary import experimental
from tfx_core.summary.graph_def import graph_def
from tfx_core.summary.writer import (
    SummaryWriter,
    create_file_writer,
    flush,
    graph,
    histogram,
    image,
    scalar,
    should_record_summaries,
    text,
)

__all__ = ["SummaryWriter", "create_file_writer", "experimental", "flush", "graph",
           "graph_def", "histogram", "image", "scalar", "should_record_summaries", "text"]
