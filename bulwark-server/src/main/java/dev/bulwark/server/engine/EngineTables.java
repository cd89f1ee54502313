package dev.bulwark.server.engine;

import dev.bulwark.core.protocol.ResultEnvelope;
import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.codec.Codec;
import dev.bulwark.core.codec.Codecs;
import dev.bulwark.core.merkle.MerkleLog;
import dev.bulwark.core.receipt.Receipt;
import dev.bulwark.core.receipt.SignedBatchHead;
import dev.bulwark.core.table.IntentTable;
import dev.bulwark.core.table.Table;
import dev.bulwark.store.state.StateStore;
import java.util.ArrayList;
import java.util.List;

/** The engine's own tables, beside the application's. */
public final class EngineTables {
  private EngineTables() {}

  /**
   * The latest request of each client: what a retry gets back. Written for every request, so it
   * is kept small: a per-batch receipt is not stored but rebuilt from the batch's head and the
   * confirmation log, which hold everything else it carries (about 1 KB per request otherwise).
   */
  public record Session(long sequence, Digest requestDigest, ResultEnvelope result, StoredReceipt receipt) {}

  /** Where a session's receipt comes from. */
  public sealed interface StoredReceipt {
    /** A receipt kept whole (per-request mode: the operator's signature over the confirmation). */
    record Whole(Receipt receipt) implements StoredReceipt {}

    /** A per-batch receipt: confirmation {@code indexInBatch} of batch {@code batchNumber}, leaf {@code leafIndex} of the log. */
    record InLog(long batchNumber, int indexInBatch, long leafIndex) implements StoredReceipt {}
  }

  /** How far this replica has applied the replicated log, and the running digest of what it applied. */
  public record Applied(long logIndex, long logTerm, long batchNumber, Digest stateDigest) {
    public static final Applied NONE = new Applied(-1, 0, -1, Digest.of(new byte[Digest.LENGTH]));
  }

  static final Codec<StoredReceipt> STORED_RECEIPT = Codecs.union("bulwark.StoredReceipt", StoredReceipt.class,
      Codecs.variant(0, "Whole", StoredReceipt.Whole.class, Codecs.record("bulwark.StoredReceipt.Whole",
          Codecs.field("receipt", Receipt.CODEC, StoredReceipt.Whole::receipt),
          StoredReceipt.Whole::new)),
      Codecs.variant(1, "InLog", StoredReceipt.InLog.class, Codecs.record("bulwark.StoredReceipt.InLog",
          Codecs.field("batchNumber", Codecs.varU64(), StoredReceipt.InLog::batchNumber),
          Codecs.field("indexInBatch", Codecs.varU32(), StoredReceipt.InLog::indexInBatch),
          Codecs.field("leafIndex", Codecs.varU64(), StoredReceipt.InLog::leafIndex),
          StoredReceipt.InLog::new)));

  static final Codec<Session> SESSION = Codecs.record("bulwark.Session",
      Codecs.field("sequence", Codecs.varU64(), Session::sequence),
      Codecs.field("requestDigest", Codecs.digest(), Session::requestDigest),
      Codecs.field("result", ResultEnvelope.CODEC, Session::result),
      Codecs.field("receipt", STORED_RECEIPT, Session::receipt),
      Session::new);

  static final Codec<Applied> APPLIED = Codecs.record("bulwark.Applied",
      Codecs.field("logIndex", Codecs.i64(), Applied::logIndex),
      Codecs.field("logTerm", Codecs.varU64(), Applied::logTerm),
      Codecs.field("batchNumber", Codecs.i64(), Applied::batchNumber),
      Codecs.field("stateDigest", Codecs.digest(), Applied::stateDigest),
      Applied::new);

  public static final IntentTable<Bytes, Session> SESSIONS =
      IntentTable.of("bulwark.session", 2, Codecs.keyBytes(), SESSION);
  public static final IntentTable<Long, SignedBatchHead> HEADS =
      IntentTable.of("bulwark.batch-head", 1, Codecs.u64(), SignedBatchHead.CODEC);
  public static final IntentTable<String, Applied> APPLIED_MARK =
      IntentTable.of("bulwark.applied", 1, Codecs.keyUtf8(), APPLIED);
  static final String APPLIED_KEY = "applied";

  /** The confirmation log: every confirmation ever made, in order. */
  public static final MerkleLog CONFIRMATIONS = new MerkleLog("confirmations");

  public static List<Table<?>> all(List<Table<?>> applicationTables) {
    List<Table<?>> out = new ArrayList<>();
    out.add(SESSIONS);
    out.add(HEADS);
    out.add(APPLIED_MARK);
    out.addAll(MerkleLog.TABLES);
    out.addAll(StateStore.TABLES);
    out.addAll(applicationTables);
    return out;
  }
}
