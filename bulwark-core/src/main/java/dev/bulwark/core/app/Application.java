package dev.bulwark.core.app;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.table.Table;
import java.util.List;

/**
 * What an operator's service plugs into the replicated engine. The engine knows nothing of
 * ledgers: it runs each request through the three functions below (the seed's steps 2 to 4)
 * and takes care of batching, replication, receipts and retries.
 *
 * <ol>
 *   <li>{@link #validate(Object, Origin)}: pure, on any thread, no state: well-formedness,
 *       limits, signatures, and whether the connection that carried the request may send it;
 *   <li>{@link #validate(Object, StateReader)}: against a recent committed snapshot, read-only,
 *       in parallel; a stale snapshot can only make it too lenient, since apply checks again;
 *   <li>{@link #apply(Object, ApplyContext)}: on the one sequencer thread, in order, inside
 *       the request's own savepoint; throw {@link Rejection} to refuse the request.
 * </ol>
 *
 * Implementations must be deterministic in apply: same state and request, same writes.
 */
public interface Application<Q, R> {
  /** A short name, used in table names and logs. */
  String name();

  Codec<Q> requestCodec();

  Codec<R> resultCodec();

  /** The application's own tables, registered when the engine opens its store. */
  List<Table<?>> tables();

  /** Stage 2. {@code origin} is who carried the request (see {@link Origin}); apply does not see it. */
  Check validate(Q request, Origin origin);

  Check validate(Q request, StateReader snapshot);

  R apply(Q request, ApplyContext context);

  /**
   * A read-only query over committed state that clients may ask by name (an account's history,
   * say), answered in the application's own encoding. Throw {@link IllegalArgumentException}
   * for an unknown name or a bad argument; the client gets the message.
   */
  default dev.bulwark.core.Bytes query(String name, dev.bulwark.core.Bytes argument, dev.bulwark.core.kv.ReadView committed) {
    throw new IllegalArgumentException(name() + " answers no query '" + name + "'");
  }
}
