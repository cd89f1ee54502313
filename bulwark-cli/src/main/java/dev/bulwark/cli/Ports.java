package dev.bulwark.cli;

import dev.bulwark.server.net.LoopbackPorts;
import java.util.OptionalInt;
import java.util.random.RandomGenerator;

/**
 * Finds a base port for a local cluster of {@code replicas}: Raft listens on base+1..,
 * clients on base+101.. and the admin API on base+201.., as 'bulwark cluster init' lays them
 * out. Each candidate range is checked by binding every one of those ports on 127.0.0.1, and
 * lies outside the kernel's ephemeral range, so no outgoing connection takes one of them while
 * a replica starts or restarts ({@link LoopbackPorts}).
 */
public final class Ports {
  private Ports() {}

  private static final int[] OFFSETS = {0, 100, 200};

  /** {@code preferred} if its whole range is free, else any free range; empty if none is found. */
  public static OptionalInt freeBasePort(int replicas, OptionalInt preferred, RandomGenerator random) {
    int[] offsets = offsets(replicas);
    // allFree is false for a port out of range, as for one taken.
    if (preferred.isPresent() && LoopbackPorts.allFree(preferred.getAsInt(), offsets)) {
      return preferred;
    }
    return LoopbackPorts.freeSpan(offsets, random);
  }

  /** Every port of a cluster of {@code replicas}, as offsets from its base port. */
  static int[] offsets(int replicas) {
    int[] out = new int[OFFSETS.length * replicas];
    int n = 0;
    for (int offset : OFFSETS) {
      for (int i = 1; i <= replicas; i++) {
        out[n++] = offset + i;
      }
    }
    return out;
  }
}
