package dev.bulwark.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Finds a base port for a local cluster of {@code replicas}: Raft listens on base+1..,
 * clients on base+101.. and the admin API on base+201.., as 'bulwark cluster init' lays them
 * out. Each candidate range is checked by binding every one of those ports on 127.0.0.1.
 */
public final class Ports {
  private Ports() {}

  private static final int[] OFFSETS = {0, 100, 200};

  /** {@code preferred} if its whole range is free, else any free range; empty if none is found. */
  public static OptionalInt freeBasePort(int replicas, OptionalInt preferred) {
    for (int attempt = 0; attempt < 100; attempt++) {
      int base;
      if (attempt == 0 && preferred.isPresent()) {
        base = preferred.getAsInt();
      } else {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
          base = s.getLocalPort() - 1;
        } catch (IOException e) {
          continue;
        }
      }
      if (base >= 1024 && base + 200 + replicas <= 65535 && rangeFree(base, replicas)) {
        return OptionalInt.of(base);
      }
    }
    return OptionalInt.empty();
  }

  private static boolean rangeFree(int base, int replicas) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 1; i <= replicas; i++) {
        for (int offset : OFFSETS) {
          held.add(new ServerSocket(base + offset + i, 50, InetAddress.getLoopbackAddress()));
        }
      }
      return true;
    } catch (IOException taken) {
      return false;
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing a listening socket that never accepted
        }
      }
    }
  }
}
