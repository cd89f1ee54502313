package dev.bulwark.core.app;

import java.util.Objects;

/**
 * Who handed a request to the replica, as its TLS connection proved it: any client, or a
 * trusted gateway that presented a client certificate the cluster's CA issued for that
 * purpose. Signatures inside a request say who authorised it; the origin says which connection
 * carried it, so an application can accept some requests (unsigned transfers, for example) from
 * its gateways only.
 */
public sealed interface Origin {
  Origin PUBLIC = new Public();

  /** A TLS client without a gateway certificate (or an in-process caller). */
  record Public() implements Origin {}

  /** A connection that presented a gateway certificate from the cluster CA for {@code name}. */
  record Gateway(String name) implements Origin {
    public Gateway {
      Objects.requireNonNull(name);
    }
  }
}
