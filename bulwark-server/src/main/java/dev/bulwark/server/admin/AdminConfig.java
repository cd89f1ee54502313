package dev.bulwark.server.admin;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A replica's admin listener (plain HTTP, read-only), validated in one place.
 *
 * @param host the address to bind; 127.0.0.1 by default, since it answers anyone who can reach it
 * @param port the port; 0 picks a free one
 * @param peers replica id -> "host:port" of every replica's admin listener, this one's included,
 *     for the cluster view of the dashboard
 * @param peerTimeout how long the cluster view waits for each peer
 */
public record AdminConfig(String host, int port, Map<String, String> peers, Duration peerTimeout) {
  public AdminConfig {
    Objects.requireNonNull(host, "admin.host must be set");
    Objects.requireNonNull(peerTimeout, "admin.peerTimeout must be set");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("admin.port must be between 0 and 65535, got " + port);
    }
    if (peerTimeout.toMillis() < 10 || peerTimeout.toMillis() > 10_000) {
      throw new IllegalArgumentException("admin.peerTimeout must be between 10 ms and 10 s, got " + peerTimeout);
    }
    peers = Collections.unmodifiableMap(new LinkedHashMap<>(peers));
  }

  /** 127.0.0.1 on a free port, no peers, 500 ms per peer. */
  public static AdminConfig loopback() {
    return new AdminConfig("127.0.0.1", 0, Map.of(), Duration.ofMillis(500));
  }

  public AdminConfig withPeers(Map<String, String> addresses) {
    return new AdminConfig(host, port, addresses, peerTimeout);
  }
}
