package dev.bulwark.core.protocol;

import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.state.StateEntryProof;
import java.util.Objects;
import java.util.Optional;

/**
 * What travels on a client connection, each frame as a 4-byte big-endian length and then its
 * canonical encoding. A client sends requests, each with an id of its choosing; the replica
 * answers each with a response carrying the same id, in any order, so many requests can be in
 * flight on one connection. A frame the replica cannot read gets an {@link Error} and the
 * connection is closed.
 */
public sealed interface Frame {
  /** Wire format version, the first field of every frame. */
  int VERSION = 1;

  /**
   * A request. Its per-batch receipt carries proofs of the state entries it wrote (when the
   * replicas add state proofs at all), as well as the confirmation under the signed head.
   */
  record Request(long requestId, ClientRequest request) implements Frame {
    public Request {
      Objects.requireNonNull(request);
    }
  }

  /**
   * A request whose receipt leaves out the state proofs: the confirmation, signed head and
   * inclusion proof only, which still prove that the request was confirmed with its result.
   * Proving state entries is most of a receipt's cost and bytes; a client that does not keep
   * them asks with this frame. Replicas older than this frame refuse it as malformed.
   */
  record RequestWithoutStateProofs(long requestId, ClientRequest request) implements Frame {
    public RequestWithoutStateProofs {
      Objects.requireNonNull(request);
    }
  }

  record Response(long requestId, Outcome outcome) implements Frame {
    public Response {
      Objects.requireNonNull(outcome);
    }
  }

  /**
   * The frame with {@code requestId} is refused. Id 0 (a frame that could not be read at all)
   * means the replica closes the connection; any other id concerns that one request.
   */
  record Error(long requestId, String code, String message) implements Frame {}

  /** Asks for one state entry (its trie key) with its proof under the replica's latest signed head. */
  record Query(long requestId, Bytes key) implements Frame {
    public Query {
      Objects.requireNonNull(key);
    }
  }

  /**
   * The answer to a {@link Query}: the latest signed head the replica applied (none before the
   * first batch) and the entry's proof under its state root. The client checks both.
   */
  record Answer(long requestId, Optional<SignedBatchHead> head, StateEntryProof entry) implements Frame {
    public Answer {
      Objects.requireNonNull(head);
      Objects.requireNonNull(entry);
    }
  }

  /**
   * Asks the application's read-only query {@code name} (the ledger's "history", for example)
   * over the replica's committed state; the argument and the answer are the application's
   * encodings. Answers are not proven: what is proven is in receipts and state proofs.
   */
  record AppQuery(long requestId, String name, Bytes argument) implements Frame {
    public AppQuery {
      Objects.requireNonNull(name);
      Objects.requireNonNull(argument);
    }
  }

  /** The answer to an {@link AppQuery}; a query that fails is answered with an {@link Error} of its id. */
  record AppAnswer(long requestId, Bytes result) implements Frame {
    public AppAnswer {
      Objects.requireNonNull(result);
    }
  }

  Codec<Outcome> OUTCOME = Codecs.union("bulwark.Outcome", Outcome.class,
      Codecs.variant(0, "Confirmed", Outcome.Confirmed.class, Codecs.record("bulwark.Outcome.Confirmed",
          Codecs.field("result", ResultEnvelope.CODEC, Outcome.Confirmed::result),
          Codecs.field("receipt", Receipt.CODEC, Outcome.Confirmed::receipt),
          Outcome.Confirmed::new)),
      Codecs.variant(1, "Rejected", Outcome.Rejected.class, Codecs.record("bulwark.Outcome.Rejected",
          Codecs.field("code", Codecs.utf8(), Outcome.Rejected::code),
          Codecs.field("message", Codecs.utf8(), Outcome.Rejected::message),
          Outcome.Rejected::new)),
      Codecs.variant(2, "NotCommitted", Outcome.NotCommitted.class, Codecs.record("bulwark.Outcome.NotCommitted",
          Codecs.field("reason", Codecs.utf8(), Outcome.NotCommitted::reason), Outcome.NotCommitted::new)),
      Codecs.variant(3, "Unknown", Outcome.Unknown.class, Codecs.record("bulwark.Outcome.Unknown",
          Codecs.field("reason", Codecs.utf8(), Outcome.Unknown::reason), Outcome.Unknown::new)),
      Codecs.variant(4, "NotLeader", Outcome.NotLeader.class, Codecs.record("bulwark.Outcome.NotLeader",
          Codecs.field("leader", Codecs.optional(Codecs.utf8()), Outcome.NotLeader::leaderId),
          (Optional<String> leader) -> new Outcome.NotLeader(leader))),
      Codecs.variant(5, "Busy", Outcome.Busy.class, Codecs.record("bulwark.Outcome.Busy",
          Codecs.field("reason", Codecs.utf8(), Outcome.Busy::reason), Outcome.Busy::new)));

  private static Codec<Frame> codec() {
    return Codecs.union("bulwark.Frame", Frame.class,
        Codecs.variant(0, "Request", Request.class, Codecs.record("bulwark.Frame.Request",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), Request::requestId),
            Codecs.field("request", ClientRequest.CODEC, Request::request),
            (Integer version, Long id, ClientRequest request) -> new Request(checkVersion(version, id), request))),
        Codecs.variant(1, "Response", Response.class, Codecs.record("bulwark.Frame.Response",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), Response::requestId),
            Codecs.field("outcome", OUTCOME, Response::outcome),
            (Integer version, Long id, Outcome outcome) -> new Response(checkVersion(version, id), outcome))),
        Codecs.variant(2, "Error", Error.class, Codecs.record("bulwark.Frame.Error",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), Error::requestId),
            Codecs.field("code", Codecs.utf8(), Error::code),
            Codecs.field("message", Codecs.utf8(), Error::message),
            (Integer version, Long id, String code, String message) -> new Error(checkVersion(version, id), code, message))),
        Codecs.variant(3, "Query", Query.class, Codecs.record("bulwark.Frame.Query",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), Query::requestId),
            Codecs.field("key", Codecs.bytes(), Query::key),
            (Integer version, Long id, Bytes key) -> new Query(checkVersion(version, id), key))),
        Codecs.variant(4, "Answer", Answer.class, Codecs.record("bulwark.Frame.Answer",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), Answer::requestId),
            Codecs.field("head", Codecs.optional(SignedBatchHead.CODEC), Answer::head),
            Codecs.field("entry", StateEntryProof.CODEC, Answer::entry),
            (Integer version, Long id, Optional<SignedBatchHead> head, StateEntryProof entry) ->
                new Answer(checkVersion(version, id), head, entry))),
        Codecs.variant(5, "AppQuery", AppQuery.class, Codecs.record("bulwark.Frame.AppQuery",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), AppQuery::requestId),
            Codecs.field("name", Codecs.utf8(), AppQuery::name),
            Codecs.field("argument", Codecs.bytes(), AppQuery::argument),
            (Integer version, Long id, String name, Bytes argument) -> new AppQuery(checkVersion(version, id), name, argument))),
        Codecs.variant(6, "AppAnswer", AppAnswer.class, Codecs.record("bulwark.Frame.AppAnswer",
            Codecs.field("version", Codecs.varU32(), r -> VERSION),
            Codecs.field("requestId", Codecs.varU64(), AppAnswer::requestId),
            Codecs.field("result", Codecs.bytes(), AppAnswer::result),
            (Integer version, Long id, Bytes result) -> new AppAnswer(checkVersion(version, id), result))),
        Codecs.variant(7, "RequestWithoutStateProofs", RequestWithoutStateProofs.class,
            Codecs.record("bulwark.Frame.RequestWithoutStateProofs",
                Codecs.field("version", Codecs.varU32(), r -> VERSION),
                Codecs.field("requestId", Codecs.varU64(), RequestWithoutStateProofs::requestId),
                Codecs.field("request", ClientRequest.CODEC, RequestWithoutStateProofs::request),
                (Integer version, Long id, ClientRequest request) ->
                    new RequestWithoutStateProofs(checkVersion(version, id), request))));
  }

  private static long checkVersion(int version, long requestId) {
    if (version != VERSION) {
      throw new IllegalArgumentException("wire format version " + version + " is not " + VERSION);
    }
    return requestId;
  }

  Codec<Frame> CODEC = codec();
}
