package dev.bulwark.server.sim;

import dev.bulwark.core.app.ApplyContext;
import dev.bulwark.core.app.Application;
import dev.bulwark.core.app.Check;
import dev.bulwark.core.app.Origin;
import dev.bulwark.core.app.Rejection;
import dev.bulwark.core.app.StateReader;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.state.AuthenticatedMap;
import dev.bulwark.core.table.Table;
import java.util.ArrayList;
import java.util.List;

/**
 * The simulator's application: a few counters that requests add to and take from, where a
 * take that would make a counter negative is refused in its savepoint (so requests conflict
 * with each other), and a tally of how often each request (client, sequence, variant) was
 * applied, in the authenticated state (so a request applied twice, or a lost layer, shows in
 * the state and its root). Every apply is recorded for the simulator, which ties the records
 * to the batch entry the sequencer hands to replication right after.
 */
final class SimApp implements Application<SimApp.Op, Long> {
  /** One request: {@code delta} added to counter {@code counter}; {@code tag} names the request. */
  record Op(String tag, int counter, long delta) {}

  /** An apply the sequencer made: in which batch, at which index, and whether it was refused. */
  record Applied(Op op, long batchNumber, int indexInBatch, boolean refused) {}

  static final int COUNTERS = 4;

  static final Codec<Op> OP = Codecs.record("sim.Op",
      Codecs.field("tag", Codecs.utf8(), Op::tag),
      Codecs.field("counter", Codecs.varU32(), Op::counter),
      Codecs.field("delta", Codecs.i64(), Op::delta),
      Op::new);

  static final AuthenticatedMap<Integer, Long> COUNTER =
      new AuthenticatedMap<>("sim.counter", Codecs.varU32(), Codecs.i64());
  static final AuthenticatedMap<String, Long> TIMES_APPLIED =
      new AuthenticatedMap<>("sim.times-applied", Codecs.utf8(), Codecs.varU64());

  /** Applies since the simulator last took them, in order. */
  final List<Applied> recorded = new ArrayList<>();

  @Override public String name() {
    return "sim";
  }

  @Override public Codec<Op> requestCodec() {
    return OP;
  }

  @Override public Codec<Long> resultCodec() {
    return Codecs.i64();
  }

  @Override public List<Table<?>> tables() {
    return List.of();
  }

  @Override public Check validate(Op op, Origin origin) {
    if (op.counter() < 0 || op.counter() >= COUNTERS) {
      return Check.reject("NO_SUCH_COUNTER", "counter " + op.counter());
    }
    return op.delta() == 0 ? Check.reject("ZERO_DELTA", "a request changes its counter") : Check.OK;
  }

  @Override public Check validate(Op op, StateReader snapshot) {
    long now = snapshot.get(COUNTER, op.counter()).orElse(0L);
    return now + op.delta() < 0 ? Check.reject("NEGATIVE", "counter " + op.counter() + " holds " + now) : Check.OK;
  }

  @Override public Long apply(Op op, ApplyContext context) {
    long now = context.get(COUNTER, op.counter()).orElse(0L);
    // Written before the check, so that a refusal must roll it back.
    context.put(TIMES_APPLIED, op.tag(), context.get(TIMES_APPLIED, op.tag()).orElse(0L) + 1);
    if (now + op.delta() < 0) {
      recorded.add(new Applied(op, context.batchNumber(), context.indexInBatch(), true));
      throw new Rejection("NEGATIVE", "counter " + op.counter() + " holds " + now);
    }
    context.put(COUNTER, op.counter(), now + op.delta());
    recorded.add(new Applied(op, context.batchNumber(), context.indexInBatch(), false));
    return now + op.delta();
  }
}
