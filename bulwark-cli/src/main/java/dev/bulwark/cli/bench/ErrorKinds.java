package dev.bulwark.cli.bench;

import dev.bulwark.client.ReceiptRejectedException;
import dev.bulwark.client.RequestTimeoutException;
import dev.bulwark.core.protocol.Outcome;
import dev.bulwark.core.protocol.ResultEnvelope;
import java.util.Optional;

/**
 * The names errors are counted under, one per kind a client can see: "rejected:CODE" (refused
 * before sequencing), "refused:CODE" (confirmed, but the ledger refused it, e.g.
 * INSUFFICIENT_FUNDS), "busy", "not-leader", "not-committed", "unknown", "timeout" (with the last
 * answer seen, e.g. "timeout:busy"), "receipt-rejected", and "failed:Exception" for the rest.
 */
public final class ErrorKinds {
  private ErrorKinds() {}

  /** The kind of a non-success outcome; empty for a confirmed, applied transfer. */
  public static Optional<String> of(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Confirmed c -> switch (c.result()) {
        case ResultEnvelope.Applied a -> Optional.empty();
        case ResultEnvelope.Refused r -> Optional.of("refused:" + r.code());
      };
      case Outcome.Rejected r -> Optional.of("rejected:" + r.code());
      case Outcome.Busy b -> Optional.of("busy");
      case Outcome.NotLeader n -> Optional.of("not-leader");
      case Outcome.NotCommitted n -> Optional.of("not-committed");
      case Outcome.Unknown u -> Optional.of("unknown");
    };
  }

  /** The kind of a failure thrown by the client. */
  public static String of(RuntimeException failure) {
    return switch (failure) {
      case RequestTimeoutException t -> t.lastOutcome().flatMap(ErrorKinds::of).map(last -> "timeout:" + last).orElse("timeout");
      case ReceiptRejectedException r -> "receipt-rejected";
      default -> "failed:" + failure.getClass().getSimpleName();
    };
  }

  /** Whether the account's nonce is no longer known after this kind of error, so it must be read again. */
  public static boolean losesNonce(String kind) {
    return kind.endsWith("BAD_NONCE") || kind.startsWith("timeout") || kind.equals("receipt-rejected")
        || kind.startsWith("failed:");
  }
}
