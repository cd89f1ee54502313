package dev.bulwark.server.net;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The client-facing listener of one replica, validated in one place.
 *
 * @param host the address to bind (127.0.0.1 by default: exposing a replica is a decision)
 * @param port the port; 0 picks a free one
 * @param certificate this replica's certificate (PEM), issued by the cluster CA
 * @param privateKey its key (PKCS#8 PEM)
 * @param frameBytesMax the largest frame a client may send
 * @param inFlightPerConnectionMax requests one connection may have unanswered; past it, "busy"
 * @param inFlightTotalMax requests all connections together may have unanswered
 * @param clientCa the cluster CA (PEM): when set, a client may present a certificate it issued,
 *     and one issued as a gateway certificate makes the connection a trusted gateway
 */
public record IngressConfig(String host, int port, Path certificate, Path privateKey, int frameBytesMax,
    int inFlightPerConnectionMax, int inFlightTotalMax, Optional<Path> clientCa) {
  public IngressConfig {
    Objects.requireNonNull(host, "ingress.host must be set");
    Objects.requireNonNull(certificate, "ingress.certificate must be set");
    Objects.requireNonNull(privateKey, "ingress.privateKey must be set");
    Objects.requireNonNull(clientCa, "ingress.clientCa must be set or empty");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("ingress.port must be between 0 and 65535, got " + port);
    }
    if (frameBytesMax < 1024 || frameBytesMax > (64 << 20)) {
      throw new IllegalArgumentException("ingress.frameBytesMax must be between 1 KiB and 64 MiB, got " + frameBytesMax);
    }
    if (inFlightPerConnectionMax < 1 || inFlightPerConnectionMax > inFlightTotalMax) {
      throw new IllegalArgumentException("ingress.inFlightPerConnectionMax must be between 1 and ingress.inFlightTotalMax ("
          + inFlightTotalMax + "), got " + inFlightPerConnectionMax);
    }
    if (inFlightTotalMax > 10_000_000) {
      throw new IllegalArgumentException("ingress.inFlightTotalMax must be at most 10000000, got " + inFlightTotalMax);
    }
  }

  /** 127.0.0.1 on a free port, 1 MiB frames, 1,024 requests in flight per connection and 65,536 in all. */
  public static IngressConfig loopback(Path certificate, Path privateKey) {
    return new IngressConfig("127.0.0.1", 0, certificate, privateKey, 1 << 20, 1024, 65_536, Optional.empty());
  }

  public IngressConfig withInFlight(int perConnection, int total) {
    return new IngressConfig(host, port, certificate, privateKey, frameBytesMax, perConnection, total, clientCa);
  }

  /** Accepts client certificates from {@code ca}; gateway certificates among them make gateways. */
  public IngressConfig withClientCa(Path ca) {
    return new IngressConfig(host, port, certificate, privateKey, frameBytesMax, inFlightPerConnectionMax,
        inFlightTotalMax, Optional.of(ca));
  }
}
