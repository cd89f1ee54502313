package dev.bulwark.cli.chaos;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster after the faults healed, as the checker needs it: each replica's applied
 * position and digest and its chain of signed heads, the operations the ledger applied in the
 * order it applied them, and the final balances.
 *
 * @param replicas every replica; {@code status} empty when it did not answer
 * @param applied every applied operation, each once per (batch, index), as the ledger's history query lists them
 * @param balances every account's final balance
 * @param ledgerUnreadable why the ledger's history and balances could not be read, if they could not
 *     (then {@code applied} and {@code balances} are empty and the checks that need them are not made)
 */
public record FinalState(List<Replica> replicas, List<Applied> applied, Map<String, Long> balances,
    Optional<String> ledgerUnreadable) {
  public FinalState {
    replicas = List.copyOf(replicas);
    applied = List.copyOf(applied);
    balances = Map.copyOf(balances);
    if (ledgerUnreadable.isPresent() && (!applied.isEmpty() || !balances.isEmpty())) {
      throw new IllegalArgumentException("an unreadable ledger has no applied operations or balances");
    }
  }

  /** A final state whose ledger was read. */
  public FinalState(List<Replica> replicas, List<Applied> applied, Map<String, Long> balances) {
    this(replicas, applied, balances, Optional.empty());
  }

  /** A final state whose ledger could not be read, for the given reason. */
  public static FinalState ledgerUnreadable(List<Replica> replicas, String reason) {
    return new FinalState(replicas, List.of(), Map.of(), Optional.of(reason));
  }

  /** A replica's final report; {@code heads} maps batch number to head hash (hex), for the batches it holds. */
  public record Replica(String id, Optional<Status> status, Map<Long, String> heads) {
    public Replica {
      heads = Map.copyOf(heads);
    }
  }

  public record Status(long appliedIndex, long appliedBatch, String stateDigest) {}

  /** An operation the ledger applied at (batch, index). */
  public record Applied(long batch, int index, History.Op op) {}
}
