package dev.bulwark.core.receipt;

import dev.bulwark.core.crypto.PublicKey;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Signed batch heads already checked against one operator key. Every receipt of a batch
 * carries the same signed head, so a client that receives hundreds of them checks the Ed25519
 * signature once instead of hundreds of times; the rest of each receipt (its inclusion and
 * state proofs) is still checked in full. Only heads that verified are remembered, the most
 * recent {@code capacity} of them; the key is the whole signed head, signature included.
 */
public final class VerifiedHeads {
  private final PublicKey operatorKey;
  private final Map<SignedBatchHead, Boolean> verified;

  public VerifiedHeads(PublicKey operatorKey, int capacity) {
    this.operatorKey = Objects.requireNonNull(operatorKey);
    if (capacity < 1 || capacity > 1_000_000) {
      throw new IllegalArgumentException("capacity must be between 1 and 1000000, got " + capacity);
    }
    this.verified = new LinkedHashMap<>(16, 0.75f, true) {
      @Override protected boolean removeEldestEntry(Map.Entry<SignedBatchHead, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  public PublicKey operatorKey() {
    return operatorKey;
  }

  /** Whether {@code head}'s signature verifies under the operator key (remembered if it does). */
  public boolean verify(SignedBatchHead head) {
    synchronized (verified) {
      if (verified.get(head) != null) {
        return true;
      }
    }
    if (!head.verify(operatorKey)) {
      return false;
    }
    synchronized (verified) {
      verified.put(head, Boolean.TRUE);
    }
    return true;
  }
}
