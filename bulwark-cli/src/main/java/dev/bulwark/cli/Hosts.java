package dev.bulwark.cli;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The hosts replicas run on, as 'bulwark cluster' writes them into peer lists (host:port): an
 * IPv4 literal or a DNS name. A replica's certificate names its host (an IP SAN for a literal, a
 * DNS SAN for a name), and a loopback host marks a local cluster that 'cluster up' may start.
 * IPv6 literals are refused: peer lists split host:port at the last colon.
 */
final class Hosts {
  private Hosts() {}

  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern DNS_NAME =
      Pattern.compile("(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

  /** The host of {@code hostPort}. */
  static String of(String hostPort) {
    return hostPort.substring(0, hostPort.lastIndexOf(':'));
  }

  /** Refuses what cannot be a replica's host, with the reason. */
  static void check(String host) {
    if (host.contains(":")) {
      throw new UserError("'" + host + "': IPv6 addresses are not supported as replica hosts; give a DNS name for it");
    }
    if (host.equals("0.0.0.0")) {
      throw new UserError("'0.0.0.0' is not an address others can reach: give each replica's own address or name");
    }
    if (IPV4.matcher(host).matches()) {
      if (!ipv4(host)) {
        throw new UserError("'" + host + "' is not an IPv4 address");
      }
    } else if (!DNS_NAME.matcher(host).matches() || host.matches("[0-9.]+")) {
      throw new UserError("'" + host + "' is neither an IPv4 address nor a DNS name");
    }
  }

  static boolean ipv4(String host) {
    var m = IPV4.matcher(host);
    if (!m.matches()) {
      return false;
    }
    for (int g = 1; g <= 4; g++) {
      if (Integer.parseInt(m.group(g)) > 255) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code host} is this machine's loopback (127.0.0.0/8 or 'localhost'). */
  static boolean loopback(String host) {
    return host.toLowerCase(Locale.ROOT).equals("localhost") || (ipv4(host) && host.startsWith("127."));
  }

  /** The DNS names a certificate for a replica on {@code host} carries. */
  static List<String> dnsNames(String host) {
    if (loopback(host)) {
      return List.of("localhost");
    }
    return ipv4(host) ? List.of() : List.of(host.toLowerCase(Locale.ROOT));
  }

  /** The IP addresses a certificate for a replica on {@code host} carries. */
  static List<String> ipAddresses(String host) {
    if (ipv4(host)) {
      return host.equals("127.0.0.1") || !loopback(host) ? List.of(host) : List.of(host, "127.0.0.1");
    }
    return loopback(host) ? List.of("127.0.0.1") : List.of();
  }
}
