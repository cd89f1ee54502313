package dev.bulwark.client;

import dev.bulwark.core.crypto.PublicKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a client needs to know, validated in one place.
 *
 * @param replicas replica id to "host:port" of its client listener; any one of them will do
 * @param caCertificate the cluster CA (PEM): the only authority trusted for replica certificates
 * @param operatorKey the operator's public key, to verify every receipt
 * @param clientName this client's name; its lanes are "name/0", "name/1", ...
 * @param lanes requests in flight at once; each lane has its own sequence numbers
 * @param firstSequence the first sequence number of every lane: higher than any used before by
 *     the same name (the default, the clock in microseconds, is, unless the clock goes back)
 * @param attemptTimeout how long one attempt waits for an answer before retrying elsewhere
 * @param requestTimeout how long a request is retried before it fails
 * @param verifyReceipts whether every receipt is checked (the default; turning it off is for benchmarks)
 * @param identity a client certificate from the cluster CA to present (a gateway's, for unsigned transfers), if any
 * @param stateProofs whether receipts should carry proofs of the state entries each request wrote (the
 *     default); without them a receipt still proves the confirmation, and costs the replicas and
 *     this client a fraction of the work and bytes (replicas older than this option refuse it)
 */
public record ClientConfig(Map<String, String> replicas, Path caCertificate, PublicKey operatorKey, String clientName,
    int lanes, long firstSequence, Duration attemptTimeout, Duration requestTimeout, boolean verifyReceipts,
    Optional<Identity> identity, boolean stateProofs) {

  /** A client certificate (PEM) and its private key (PKCS#8 PEM), as `bulwark cluster issue-client` writes them. */
  public record Identity(Path certificate, Path privateKey) {
    public Identity {
      Objects.requireNonNull(certificate, "client.identity.certificate must be set");
      Objects.requireNonNull(privateKey, "client.identity.privateKey must be set");
    }
  }

  public ClientConfig {
    Objects.requireNonNull(caCertificate, "client.caCertificate must be set");
    Objects.requireNonNull(operatorKey, "client.operatorKey must be set");
    Objects.requireNonNull(identity, "client.identity must be set or empty");
    if (replicas == null || replicas.isEmpty()) {
      throw new IllegalArgumentException("client.replicas must name at least one replica");
    }
    replicas = Collections.unmodifiableMap(new LinkedHashMap<>(replicas));
    if (clientName == null || !clientName.matches("[A-Za-z0-9._-]{1,48}")) {
      throw new IllegalArgumentException("client.clientName must be 1 to 48 of A-Z a-z 0-9 . _ -, got '" + clientName + "'");
    }
    if (lanes < 1 || lanes > 4096) {
      throw new IllegalArgumentException("client.lanes must be between 1 and 4096, got " + lanes);
    }
    if (firstSequence < 1) {
      throw new IllegalArgumentException("client.firstSequence must be at least 1, got " + firstSequence);
    }
    if (attemptTimeout.toMillis() < 10 || requestTimeout.compareTo(attemptTimeout) < 0) {
      throw new IllegalArgumentException("client.attemptTimeout must be at least 10 ms and at most client.requestTimeout");
    }
  }

  /** A configuration asking for state proofs in receipts. */
  public ClientConfig(Map<String, String> replicas, Path caCertificate, PublicKey operatorKey, String clientName,
      int lanes, long firstSequence, Duration attemptTimeout, Duration requestTimeout, boolean verifyReceipts,
      Optional<Identity> identity) {
    this(replicas, caCertificate, operatorKey, clientName, lanes, firstSequence, attemptTimeout, requestTimeout,
        verifyReceipts, identity, true);
  }

  /** 16 lanes, 2 s per attempt, 30 s per request, receipts verified, with state proofs. */
  public static ClientConfig defaults(Map<String, String> replicas, Path caCertificate, PublicKey operatorKey,
      String clientName) {
    return new ClientConfig(replicas, caCertificate, operatorKey, clientName, 16,
        System.currentTimeMillis() * 1000, Duration.ofSeconds(2), Duration.ofSeconds(30), true, Optional.empty());
  }

  public ClientConfig withLanes(int count) {
    return new ClientConfig(replicas, caCertificate, operatorKey, clientName, count, firstSequence, attemptTimeout,
        requestTimeout, verifyReceipts, identity, stateProofs);
  }

  /** Presents {@code certificate} to the replicas (a gateway certificate makes this client a trusted gateway). */
  public ClientConfig withIdentity(Path certificate, Path privateKey) {
    return new ClientConfig(replicas, caCertificate, operatorKey, clientName, lanes, firstSequence, attemptTimeout,
        requestTimeout, verifyReceipts, Optional.of(new Identity(certificate, privateKey)), stateProofs);
  }

  /** Asks for receipts with state proofs ({@code true}, the default) or without. */
  public ClientConfig withStateProofs(boolean proofs) {
    return new ClientConfig(replicas, caCertificate, operatorKey, clientName, lanes, firstSequence, attemptTimeout,
        requestTimeout, verifyReceipts, identity, proofs);
  }
}
