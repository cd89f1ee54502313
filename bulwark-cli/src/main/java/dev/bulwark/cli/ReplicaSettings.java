package dev.bulwark.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * One replica's configuration file ({@code replica.properties}), as {@code bulwark cluster init}
 * writes it and {@code bulwark serve} reads it. Paths are relative to the file's directory.
 * A missing or malformed setting stops start-up with a message that names it.
 *
 * <pre>
 * cluster.name     the cluster's name (its Raft group)
 * replica.id       this replica's id
 * raft.peers       id=host:port of every replica's Raft endpoint, comma separated
 * ingress.host     the address clients connect to (127.0.0.1 for a local cluster)
 * ingress.port     its port
 * ingress.peers    id=host:port of every replica's client endpoint
 * tls.ca, tls.certificate, tls.key   the cluster CA and this replica's certificate and key
 * operator.id      the operator's name in receipts
 * operator.key     the operator's signing key (PEM, mode 0600)
 * admin.publicKey  the key that signs deposits and withdrawals
 * http.host        the admin and dashboard listener's address (default 127.0.0.1)
 * http.port        its port (default: ingress.port + 100)
 * http.peers       id=host:port of every replica's admin listener (default: each ingress peer's port + 100)
 * </pre>
 */
record ReplicaSettings(Path file, String cluster, String id, Map<String, String> raftPeers, String ingressHost,
    int ingressPort, Map<String, String> ingressPeers, Path ca, Path certificate, Path key, String operatorId,
    Path operatorKey, Path adminPublicKey, String httpHost, int httpPort, Map<String, String> httpPeers) {

  /** The admin listener's port is the client port plus this, unless set. */
  static final int HTTP_PORT_OFFSET = 100;

  static ReplicaSettings read(Path file) {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    } catch (IOException e) {
      throw new UserError("cannot read " + file + ": " + e.getMessage());
    }
    Path base = file.toAbsolutePath().getParent();
    int ingressPort = port(p, file, "ingress.port");
    Map<String, String> ingressPeers = peers(p, file, "ingress.peers");
    if (ingressPort + HTTP_PORT_OFFSET > 65535 && p.getProperty("http.port") == null) {
      throw new UserError(file + ": setting 'http.port' must be set when ingress.port + " + HTTP_PORT_OFFSET + " is not a port");
    }
    int httpPort = p.getProperty("http.port") == null ? ingressPort + HTTP_PORT_OFFSET : port(p, file, "http.port");
    Map<String, String> httpPeers = p.getProperty("http.peers") != null ? peers(p, file, "http.peers") : shifted(ingressPeers);
    return new ReplicaSettings(file, required(p, file, "cluster.name"), required(p, file, "replica.id"),
        peers(p, file, "raft.peers"), required(p, file, "ingress.host"), ingressPort,
        ingressPeers, base.resolve(required(p, file, "tls.ca")),
        base.resolve(required(p, file, "tls.certificate")), base.resolve(required(p, file, "tls.key")),
        required(p, file, "operator.id"), base.resolve(required(p, file, "operator.key")),
        base.resolve(required(p, file, "admin.publicKey")), p.getProperty("http.host", "127.0.0.1").strip(), httpPort,
        httpPeers);
  }

  private static Map<String, String> shifted(Map<String, String> ingressPeers) {
    Map<String, String> out = new LinkedHashMap<>();
    ingressPeers.forEach((id, address) -> {
      int colon = address.lastIndexOf(':');
      out.put(id, address.substring(0, colon + 1) + (Integer.parseInt(address.substring(colon + 1)) + HTTP_PORT_OFFSET));
    });
    return out;
  }

  private static String required(Properties p, Path file, String name) {
    String v = p.getProperty(name);
    if (v == null || v.isBlank()) {
      throw new UserError(file + ": setting '" + name + "' is missing");
    }
    return v.strip();
  }

  private static int port(Properties p, Path file, String name) {
    String v = required(p, file, name);
    try {
      int port = Integer.parseInt(v);
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new UserError(file + ": setting '" + name + "' must be a port between 1 and 65535, got '" + v + "'");
    }
  }

  private static Map<String, String> peers(Properties p, Path file, String name) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String part : required(p, file, name).split(",")) {
      String[] kv = part.strip().split("=", 2);
      if (kv.length != 2 || !kv[0].matches("[A-Za-z0-9_-]{1,32}") || !kv[1].matches("[^\\s:]+:\\d{1,5}")) {
        throw new UserError(file + ": setting '" + name + "' must be id=host:port,..., got '" + part.strip() + "'");
      }
      out.put(kv[0], kv[1]);
    }
    return out;
  }

  static void write(Path file, Map<String, String> settings) {
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("# Bulwark replica configuration, written by 'bulwark cluster init'. Paths are relative to this file.\n");
      for (Map.Entry<String, String> e : settings.entrySet()) {
        w.write(e.getKey() + "=" + e.getValue() + "\n");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
