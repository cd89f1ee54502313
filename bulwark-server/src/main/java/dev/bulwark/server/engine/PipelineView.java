package dev.bulwark.server.engine;

import dev.bulwark.core.kv.ReadView;
import dev.bulwark.core.kv.WriteSet;
import java.util.List;

/**
 * The committed store seen through the write sets of batches still in flight, newest on top:
 * what batch N+1 is processed on while batch N replicates. Each layer holds exactly what its
 * batch will write, so a layer whose batch has meanwhile been applied shows the same bytes as
 * the store beneath it.
 */
final class PipelineView {
  private PipelineView() {}

  static ReadView over(ReadView committed, List<WriteSet> inFlightOldestFirst) {
    ReadView view = committed;
    for (WriteSet layer : inFlightOldestFirst) {
      view = layer.over(view);
    }
    return view;
  }
}
