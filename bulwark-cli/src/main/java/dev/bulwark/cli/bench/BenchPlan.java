package dev.bulwark.cli.bench;

import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one {@code bulwark bench} run does, validated in one place: how many transfer streams
 * (clients) run at once, over how many accounts, for how long, and whether they send as fast as
 * answers come back (closed loop) or on a fixed schedule (open loop, {@code ratePerSecond}).
 *
 * <p>Account {@code i} belongs to client {@code i % clients}: a client is the only sender from
 * its accounts, so their nonces stay sequential without coordination. Warmup and duration are
 * whole seconds so that the one-second progress windows split exactly into warmup and measured.
 *
 * @param clients transfer streams, each with one transfer in flight
 * @param accounts accounts opened for the run, at least {@code clients} and at least 2
 * @param warmupSeconds seconds sent and shown but left out of the report
 * @param length when the run stops: after a duration, or after a number of transfers per account
 * @param ratePerSecond open loop: transfers per second over all clients; empty for closed loop
 */
public record BenchPlan(int clients, int accounts, long warmupSeconds, Length length, OptionalLong ratePerSecond) {
  public static final int CLIENTS_MAX = 4096;
  public static final int ACCOUNTS_MAX = 65_536;
  public static final long DURATION_SECONDS_MAX = 24 * 3600;
  public static final long WARMUP_SECONDS_MAX = 3600;
  public static final long TRANSFERS_PER_ACCOUNT_MAX = 1_000_000;
  public static final long RATE_PER_SECOND_MAX = 1_000_000;
  /** Clients when neither --clients nor --accounts is given. */
  public static final int DEFAULT_CLIENTS = 64;
  public static final long DEFAULT_DURATION_SECONDS = 30;
  public static final long DEFAULT_WARMUP_SECONDS = 5;

  /** When a run stops. */
  public sealed interface Length {
    /** After this many measured seconds (warmup comes first). */
    record Seconds(long seconds) implements Length {}

    /** When every account has sent this many transfers (confirmed or not). */
    record TransfersPerAccount(long transfers) implements Length {}
  }

  public BenchPlan {
    if (clients < 1 || clients > CLIENTS_MAX) {
      throw new IllegalArgumentException("--clients must be between 1 and " + CLIENTS_MAX + ", got " + clients);
    }
    if (accounts < 2 || accounts > ACCOUNTS_MAX) {
      throw new IllegalArgumentException("--accounts must be between 2 and " + ACCOUNTS_MAX + ", got " + accounts);
    }
    if (accounts < clients) {
      throw new IllegalArgumentException("--accounts (" + accounts + ") must be at least --clients (" + clients
          + "): a client sends only from accounts it owns");
    }
    if (warmupSeconds < 0 || warmupSeconds > WARMUP_SECONDS_MAX) {
      throw new IllegalArgumentException("--warmup must be between 0 s and " + WARMUP_SECONDS_MAX + " s, got " + warmupSeconds);
    }
    switch (length) {
      case Length.Seconds s when s.seconds() < 1 || s.seconds() > DURATION_SECONDS_MAX ->
          throw new IllegalArgumentException("--duration must be between 1 s and " + DURATION_SECONDS_MAX + " s, got "
              + s.seconds());
      case Length.TransfersPerAccount t when t.transfers() < 1 || t.transfers() > TRANSFERS_PER_ACCOUNT_MAX ->
          throw new IllegalArgumentException("--transfers must be between 1 and " + TRANSFERS_PER_ACCOUNT_MAX + ", got "
              + t.transfers());
      case Length.Seconds s -> { }
      case Length.TransfersPerAccount t -> { }
    }
    if (ratePerSecond.isPresent() && (ratePerSecond.getAsLong() < 1 || ratePerSecond.getAsLong() > RATE_PER_SECOND_MAX)) {
      throw new IllegalArgumentException("--rate must be between 1 and " + RATE_PER_SECOND_MAX + " transfers per second, got "
          + ratePerSecond.getAsLong());
    }
  }

  /**
   * The plan from the options as given (null when not given). Defaults: 64 clients (or as many
   * as the accounts given, if fewer), twice as many accounts as clients, 30 s after 5 s of
   * warmup; with {@code --transfers}, no duration and no warmup.
   */
  public static BenchPlan fromOptions(Integer clients, Integer accounts, String duration, String warmup, Long transfers,
      Long ratePerSecond) {
    if (transfers != null && duration != null) {
      throw new IllegalArgumentException("give --duration or --transfers, not both");
    }
    if (transfers != null && warmup != null) {
      throw new IllegalArgumentException("--warmup applies to --duration runs; a --transfers run measures every transfer");
    }
    int c = clients != null ? clients : accounts != null ? Math.min(DEFAULT_CLIENTS, accounts) : DEFAULT_CLIENTS;
    int a = accounts != null ? accounts : (int) Math.min(ACCOUNTS_MAX, 2L * c);
    Length length = transfers != null ? new Length.TransfersPerAccount(transfers)
        : new Length.Seconds(duration != null ? parseSeconds("--duration", duration) : DEFAULT_DURATION_SECONDS);
    long w = transfers != null ? 0 : warmup != null ? parseSeconds("--warmup", warmup) : DEFAULT_WARMUP_SECONDS;
    return new BenchPlan(c, a, w, length,
        ratePerSecond == null ? OptionalLong.empty() : OptionalLong.of(ratePerSecond));
  }

  private static final Pattern SECONDS = Pattern.compile("(\\d{1,7})\\s*(s|m|h)?");

  /** Whole seconds from "45", "45s", "2m" or "1h"; anything else is refused with {@code option} named. */
  public static long parseSeconds(String option, String text) {
    Matcher m = SECONDS.matcher(text.strip());
    if (!m.matches()) {
      throw new IllegalArgumentException(option + " takes whole seconds, minutes or hours such as 30s, 2m or 1h; got '"
          + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "m" -> n * 60;
      case "h" -> n * 3600;
      default -> n;
    };
  }

  /** Whether transfers go out on a schedule rather than as soon as the previous one is answered. */
  public boolean openLoop() {
    return ratePerSecond.isPresent();
  }

  /** The accounts client {@code client} sends from, by index. */
  public int[] accountsOf(int client) {
    if (client < 0 || client >= clients) {
      throw new IllegalArgumentException("no client " + client);
    }
    int[] owned = new int[(accounts - client + clients - 1) / clients];
    for (int i = 0; i < owned.length; i++) {
      owned[i] = client + i * clients;
    }
    return owned;
  }

  /**
   * Open loop: nanoseconds between two transfers of one client, so that all clients together
   * send {@code ratePerSecond}; 0 for closed loop.
   */
  public long clientIntervalNanos() {
    return ratePerSecond.isEmpty() ? 0 : Math.max(1, clients * 1_000_000_000L / ratePerSecond.getAsLong());
  }
}
