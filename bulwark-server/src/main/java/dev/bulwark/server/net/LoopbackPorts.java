package dev.bulwark.server.net;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.random.RandomGenerator;

/**
 * Ports for servers about to be started on 127.0.0.1 (local clusters, the demo, chaos, tests),
 * chosen outside the kernel's ephemeral range.
 *
 * <p>Why not bind port 0 and reuse what it returns: that port is in the ephemeral range, which
 * the kernel also hands out as the local port of every outgoing connection (gRPC between
 * replicas, clients, HTTP). Between the check and the server's bind, or while a replica is down
 * for a restart, a connection can take the port, and the replica then fails to bind: a replica
 * missing from a test cluster or a demo. Outside that range only explicit binds compete, and each
 * candidate is checked by binding it.
 */
public final class LoopbackPorts {
  /** The lowest port handed out: clear of well-known and common registered services. */
  static final int LOWEST = 10_000;
  static final int HIGHEST = 65_535;
  /** Linux's default ephemeral range, used when the kernel's setting cannot be read. */
  static final Range EPHEMERAL_DEFAULT = new Range(32_768, 60_999);
  private static final Path EPHEMERAL_SETTING = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
  /** Candidates tried before giving up; each costs a few binds. */
  private static final int ATTEMPTS = 200;

  private LoopbackPorts() {}

  /** An inclusive range of ports. */
  record Range(int low, int high) {
    Range {
      if (low < 1 || high > HIGHEST || low > high) {
        throw new IllegalArgumentException("not a port range: " + low + ".." + high);
      }
    }
  }

  /** The kernel's ephemeral range, or Linux's default if it cannot be read or makes no sense. */
  static Range ephemeralRange() {
    try {
      return parseRange(Files.readString(EPHEMERAL_SETTING, StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return EPHEMERAL_DEFAULT;
    }
  }

  /** The setting's text, two numbers separated by white space; Linux's default if malformed. */
  static Range parseRange(String setting) {
    String[] parts = setting.trim().split("\\s+");
    try {
      return parts.length == 2 ? new Range(Integer.parseInt(parts[0]), Integer.parseInt(parts[1])) : EPHEMERAL_DEFAULT;
    } catch (IllegalArgumentException e) {
      return EPHEMERAL_DEFAULT;
    }
  }

  /**
   * Where a base port {@code b} may fall so that {@code b + spanMax} stays inside one stretch
   * outside {@code ephemeral}: below it if that stretch holds the span, else above it; empty if
   * neither does.
   */
  static Optional<Range> basesOutside(Range ephemeral, int spanMax) {
    if (ephemeral.low() - 1 - spanMax >= LOWEST) {
      return Optional.of(new Range(LOWEST, ephemeral.low() - 1 - spanMax));
    }
    int above = Math.max(LOWEST, ephemeral.high() + 1);
    if (HIGHEST - spanMax >= above) {
      return Optional.of(new Range(above, HIGHEST - spanMax));
    }
    return Optional.empty();
  }

  /**
   * A base port {@code b} such that {@code b + o} is free on 127.0.0.1 now for every offset
   * {@code o} (each at least 0), all outside the ephemeral range; empty if {@value #ATTEMPTS}
   * random candidates were all taken. Another process can still bind one before the caller does,
   * but no outgoing connection will.
   */
  public static OptionalInt freeSpan(int[] offsets, RandomGenerator random) {
    return freeSpan(offsets, random, ephemeralRange());
  }

  static OptionalInt freeSpan(int[] offsets, RandomGenerator random, Range ephemeral) {
    int spanMax = 0;
    for (int o : offsets) {
      if (o < 0) {
        throw new IllegalArgumentException("a port offset is at least 0, not " + o);
      }
      spanMax = Math.max(spanMax, o);
    }
    Optional<Range> bases = basesOutside(ephemeral, spanMax);
    if (bases.isEmpty()) {
      return OptionalInt.empty();
    }
    Range range = bases.get();
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      int base = random.nextInt(range.low(), range.high() + 1);
      if (allFree(base, offsets)) {
        return OptionalInt.of(base);
      }
    }
    return OptionalInt.empty();
  }

  /** One port free on 127.0.0.1 now, outside the ephemeral range. */
  public static int freePort(RandomGenerator random) {
    return freeSpan(new int[] {0}, random).orElseThrow(() -> new IllegalStateException(
        "no free port on 127.0.0.1 outside the ephemeral range " + ephemeralRange()));
  }

  /**
   * True if every {@code base + offset} is a port from 1 to 65535 that can be bound on
   * 127.0.0.1 now (port 0 is "any port", never free in this sense).
   */
  public static boolean allFree(int base, int[] offsets) {
    List<ServerSocket> held = new ArrayList<>(offsets.length);
    try {
      for (int offset : offsets) {
        int port = base + offset;
        if (port < 1 || port > HIGHEST) {
          return false;
        }
        held.add(new ServerSocket(port, 50, InetAddress.getLoopbackAddress()));
      }
      return true;
    } catch (IOException | IllegalArgumentException taken) {
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
