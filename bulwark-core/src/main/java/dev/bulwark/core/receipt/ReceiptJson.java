package dev.bulwark.core.receipt;

import dev.bulwark.core.Bytes;
import dev.bulwark.core.Digest;
import dev.bulwark.core.crypto.Signature;
import dev.bulwark.core.json.Json;
import dev.bulwark.core.json.JsonException;
import dev.bulwark.core.json.JsonReader;
import dev.bulwark.core.merkle.ConsistencyProof;
import dev.bulwark.core.merkle.InclusionProof;
import dev.bulwark.core.state.StateEntryProof;
import dev.bulwark.core.state.StateProof;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The documented JSON rendering of receipts, signed heads and proofs ({@code docs/receipts.md}).
 * Hashes and signatures are lower-case hex, numbers are JSON integers, members appear in the
 * order of the canonical encoding, and parsing rejects missing, extra or mistyped members with
 * the member's path named. The JSON carries exactly the fields of the binary form, so
 * verification never depends on which form a receipt travelled in.
 */
public final class ReceiptJson {
  public static final String RECEIPT_FORMAT = "bulwark.receipt.v1";
  public static final String HEAD_FORMAT = "bulwark.signed-batch-head.v1";
  public static final String CONSISTENCY_FORMAT = "bulwark.consistency-proof.v1";
  public static final String STATE_PROOF_FORMAT = "bulwark.state-proof.v1";
  public static final String INCLUSION_FORMAT = "bulwark.inclusion-proof.v1";
  public static final String MODE_PER_REQUEST = "per-request";
  public static final String MODE_PER_BATCH = "per-batch";

  private ReceiptJson() {}

  // ---------------------------------------------------------------- writing

  public static String write(Receipt receipt) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", RECEIPT_FORMAT);
    switch (receipt) {
      case Receipt.PerRequest r -> {
        out.put("mode", MODE_PER_REQUEST);
        out.put("confirmation", confirmation(r.confirmation()));
        out.put("signature", r.signature().hex());
      }
      case Receipt.PerBatch r -> {
        out.put("mode", MODE_PER_BATCH);
        out.put("confirmation", confirmation(r.confirmation()));
        out.put("head", head(r.head()));
        out.put("inclusion", inclusion(r.inclusion()));
        List<Object> state = new ArrayList<>();
        for (StateEntryProof p : r.state()) {
          state.add(stateEntry(p));
        }
        out.put("state", state);
      }
    }
    return Json.write(out);
  }

  public static String write(SignedBatchHead head) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", HEAD_FORMAT);
    out.putAll(head(head));
    return Json.write(out);
  }

  public static String write(ConsistencyProof proof) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", CONSISTENCY_FORMAT);
    out.put("firstSize", proof.firstSize());
    out.put("secondSize", proof.secondSize());
    out.put("path", hexes(proof.path()));
    return Json.write(out);
  }

  /** A standalone inclusion proof of leaf {@code leafIndex} in a log of {@code treeSize} leaves. */
  public static String write(InclusionProof proof) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", INCLUSION_FORMAT);
    out.putAll(inclusion(proof));
    return Json.write(out);
  }

  /** A standalone state proof: a claim about one entry under a state root. */
  public static String write(Digest stateRoot, StateEntryProof proof) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("format", STATE_PROOF_FORMAT);
    out.put("stateRoot", stateRoot.hex());
    out.putAll(stateEntry(proof));
    return Json.write(out);
  }

  private static Map<String, Object> stateEntry(StateEntryProof p) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("key", p.key().hex());
    out.put("value", p.value().map(Bytes::hex).orElse(null));
    List<Object> nodes = new ArrayList<>();
    for (Bytes node : p.proof().nodes()) {
      nodes.add(node.hex());
    }
    out.put("nodes", nodes);
    return out;
  }

  private static Map<String, Object> confirmation(Confirmation c) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("operatorId", c.operatorId());
    out.put("requestDigest", c.requestDigest().hex());
    out.put("batchNumber", c.batchNumber());
    out.put("indexInBatch", (long) c.indexInBatch());
    out.put("resultDigest", c.resultDigest().hex());
    return out;
  }

  private static Map<String, Object> head(SignedBatchHead signed) {
    BatchHead h = signed.head();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("operatorId", h.operatorId());
    out.put("batchNumber", h.batchNumber());
    out.put("logSize", h.logSize());
    out.put("logRoot", h.logRoot().hex());
    out.put("stateRoot", h.stateRoot().hex());
    out.put("previousHeadHash", h.previousHeadHash().hex());
    out.put("timeMs", h.timeMs());
    out.put("signature", signed.signature().hex());
    return out;
  }

  private static Map<String, Object> inclusion(InclusionProof p) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("leafIndex", p.leafIndex());
    out.put("treeSize", p.treeSize());
    out.put("path", hexes(p.path()));
    return out;
  }

  private static List<Object> hexes(List<Digest> digests) {
    List<Object> out = new ArrayList<>(digests.size());
    for (Digest d : digests) {
      out.add(d.hex());
    }
    return out;
  }

  // ---------------------------------------------------------------- reading

  /** Parses a receipt document; throws {@link JsonException} naming the first bad member. */
  public static Receipt readReceipt(String text) {
    JsonReader doc = JsonReader.of("receipt", Json.parse(text));
    requireFormat(doc, RECEIPT_FORMAT);
    String mode = doc.string("mode");
    return switch (mode) {
      case MODE_PER_REQUEST -> {
        onlyMembers(doc, Set.of("format", "mode", "confirmation", "signature"));
        yield guard(doc, () -> new Receipt.PerRequest(confirmation(doc.object("confirmation")),
            new Signature(doc.hex("signature", Signature.LENGTH))));
      }
      case MODE_PER_BATCH -> {
        onlyMembers(doc, Set.of("format", "mode", "confirmation", "head", "inclusion", "state"));
        List<StateEntryProof> state = new ArrayList<>();
        List<Object> items = doc.array("state");
        for (int i = 0; i < items.size(); i++) {
          JsonReader entry = JsonReader.of(doc.path() + ".state[" + i + "]", items.get(i));
          onlyMembers(entry, Set.of("key", "value", "nodes"));
          state.add(stateEntry(entry));
        }
        yield guard(doc, () -> new Receipt.PerBatch(confirmation(doc.object("confirmation")),
            head(doc.object("head"), false), inclusion(doc.object("inclusion")), state));
      }
      default -> throw new JsonException("receipt.mode: expected \"" + MODE_PER_REQUEST + "\" or \""
          + MODE_PER_BATCH + "\", got \"" + mode + "\"");
    };
  }

  public static SignedBatchHead readHead(String text) {
    JsonReader doc = JsonReader.of("head", Json.parse(text));
    requireFormat(doc, HEAD_FORMAT);
    return head(doc, true);
  }

  public static ConsistencyProof readConsistencyProof(String text) {
    JsonReader doc = JsonReader.of("proof", Json.parse(text));
    requireFormat(doc, CONSISTENCY_FORMAT);
    onlyMembers(doc, Set.of("format", "firstSize", "secondSize", "path"));
    return guard(doc, () -> new ConsistencyProof(doc.nonNegative("firstSize"), doc.nonNegative("secondSize"),
        digests(doc, "path")));
  }

  /** A standalone state proof and the root it claims to be under. */
  public record StateProofDocument(Digest stateRoot, StateEntryProof proof) {}

  public static StateProofDocument readStateProof(String text) {
    JsonReader doc = JsonReader.of("proof", Json.parse(text));
    requireFormat(doc, STATE_PROOF_FORMAT);
    onlyMembers(doc, Set.of("format", "stateRoot", "key", "value", "nodes"));
    return new StateProofDocument(doc.digest("stateRoot"), stateEntry(doc));
  }

  /** The key, value and nodes of a state proof; the caller has checked which members may appear. */
  private static StateEntryProof stateEntry(JsonReader e) {
    Bytes key = e.hex("key", -1);
    Optional<Bytes> value = e.isNull("value") ? Optional.empty() : Optional.of(e.hex("value", -1));
    List<Object> items = e.array("nodes");
    if (items.size() > StateProof.NODES_MAX) {
      throw new JsonException(e.path() + ".nodes: " + items.size() + " nodes is more than any state proof has");
    }
    List<Bytes> nodes = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      nodes.add(JsonReader.hexValue(e.path() + ".nodes[" + i + "]", items.get(i), -1));
    }
    return guard(e, () -> new StateEntryProof(key, value, new StateProof(nodes)));
  }

  private static void requireFormat(JsonReader doc, String format) {
    String found = doc.string("format");
    if (!found.equals(format)) {
      throw new JsonException(doc.path() + ".format: expected \"" + format + "\", got \"" + found + "\"");
    }
  }

  private static Confirmation confirmation(JsonReader c) {
    onlyMembers(c, Set.of("operatorId", "requestDigest", "batchNumber", "indexInBatch", "resultDigest"));
    long index = c.nonNegative("indexInBatch");
    if (index > Integer.MAX_VALUE) {
      throw new JsonException(c.path() + ".indexInBatch: too large");
    }
    return guard(c, () -> new Confirmation(c.string("operatorId"), c.digest("requestDigest"),
        c.nonNegative("batchNumber"), (int) index, c.digest("resultDigest")));
  }

  /** A signed head; standing alone it carries its format, inside a receipt it does not. */
  private static SignedBatchHead head(JsonReader h, boolean standalone) {
    Set<String> members = Set.of("operatorId", "batchNumber", "logSize", "logRoot", "stateRoot",
        "previousHeadHash", "timeMs", "signature");
    if (standalone) {
      members = new java.util.HashSet<>(members);
      members.add("format");
    }
    onlyMembers(h, members);
    return guard(h, () -> new SignedBatchHead(
        new BatchHead(h.string("operatorId"), h.nonNegative("batchNumber"), h.nonNegative("logSize"),
            h.digest("logRoot"), h.digest("stateRoot"), h.digest("previousHeadHash"), h.nonNegative("timeMs")),
        new Signature(h.hex("signature", Signature.LENGTH))));
  }

  private static InclusionProof inclusion(JsonReader p) {
    onlyMembers(p, Set.of("leafIndex", "treeSize", "path"));
    return guard(p, () -> new InclusionProof(p.nonNegative("leafIndex"), p.nonNegative("treeSize"), digests(p, "path")));
  }

  private static List<Digest> digests(JsonReader r, String name) {
    List<Object> items = r.array(name);
    if (items.size() > ConsistencyProof.PATH_MAX) {
      throw new JsonException(r.path() + "." + name + ": " + items.size() + " hashes is more than any proof has");
    }
    List<Digest> out = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      out.add(Digest.of(JsonReader.hexValue(r.path() + "." + name + "[" + i + "]", items.get(i), Digest.LENGTH)));
    }
    return out;
  }

  private static void onlyMembers(JsonReader r, Set<String> allowed) {
    for (String name : r.memberNames()) {
      if (!allowed.contains(name)) {
        throw new JsonException(r.path() + "." + name + ": unknown member");
      }
    }
  }

  /** Turns a record's own validation failure into a JSON error that names where it happened. */
  private static <T> T guard(JsonReader r, Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new JsonException(r.path() + ": " + e.getMessage());
    }
  }
}
