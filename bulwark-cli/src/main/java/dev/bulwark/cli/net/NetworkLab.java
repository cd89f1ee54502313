package dev.bulwark.cli.net;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private network of "hosts" on this machine, so multi-host deployments and network
 * partitions can be exercised without more machines. Each host is a Linux network namespace
 * with its own address, joined to the others by a veth pair plugged into one bridge in the
 * root namespace. The bridge carries the gateway address (.1), so processes in the root
 * namespace (tests, clients) reach every host directly.
 *
 * <p>Names and the /24 come from a random 16-bit id ({@code bw8a3f}, namespaces {@code
 * bw8a3f-0..}, subnet 10.138.63.0/24), so labs of concurrent runs do not collide; a subnet
 * already present on a local interface or route is skipped. The owning JVM's pid and start
 * time are recorded under {@value #OWNERS_DIR}; {@link #removeStale()} deletes only labs whose
 * owner is gone.
 *
 * <p>Partitions are nftables rules inside the hosts' namespaces (input and output), so they cut
 * host-to-host traffic only: the root namespace keeps reaching everyone. Every external command
 * runs with a timeout and fails with its command line and stderr.
 *
 * <p>Needs root, {@code ip} (iproute2) and {@code nft}; {@link #unavailableReason()} says why
 * not otherwise.
 */
public final class NetworkLab implements AutoCloseable {
  /** An external command that failed or timed out. */
  public static final class CommandFailedException extends IOException {
    private static final long serialVersionUID = 1L;

    CommandFailedException(String message) {
      super(message);
    }
  }

  /** Where each lab's owner (pid and start time) is recorded. */
  static final String OWNERS_DIR = "/run/bulwark-netlab";

  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration KILL_GRACE = Duration.ofSeconds(5);
  private static final int HOSTS_MAX = 200;
  private static final int FIRST_HOST_OCTET = 2;
  private static final String NFT_TABLE = "bulwark_lab";
  private static final Pattern LAB_NAME = Pattern.compile("bw([0-9a-f]{4})(?:-\\d+)?");
  private static final SecureRandom RANDOM = new SecureRandom();

  private static volatile Optional<String> unavailable;

  private final String id;
  private final int hosts;
  private final String subnetPrefix;
  private final Thread shutdownHook;
  private boolean closed;

  private NetworkLab(String id, int hosts) {
    this.id = id;
    this.hosts = hosts;
    int value = Integer.parseInt(id, 16);
    this.subnetPrefix = "10." + (value >> 8) + "." + (value & 0xff) + ".";
    this.shutdownHook = Thread.ofPlatform().unstarted(this::close);
  }

  /** Why a lab cannot be made here (not root, a tool missing, namespaces refused); empty if it can. Checked once. */
  public static Optional<String> unavailableReason() {
    Optional<String> known = unavailable;
    if (known == null) {
      known = probe();
      unavailable = known;
    }
    return known;
  }

  private static Optional<String> probe() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return Optional.of("network labs need Linux network namespaces (this is " + System.getProperty("os.name") + ")");
    }
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!Integer.valueOf(0).equals(uid)) {
        return Optional.of("network labs need root (uid 0) to create namespaces, veths and a bridge; this is uid " + uid);
      }
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.of("cannot tell whether this is root: " + e.getMessage());
    }
    for (List<String> tool : List.of(List.of("ip", "-V"), List.of("nft", "--version"))) {
      try {
        run(tool, Duration.ofSeconds(10));
      } catch (IOException e) {
        return Optional.of("network labs need '" + tool.getFirst() + "' (" + (tool.getFirst().equals("ip") ? "iproute2" : "nftables")
            + "): " + e.getMessage());
      }
    }
    String probe = "bwprobe" + ProcessHandle.current().pid();
    try {
      run(List.of("ip", "netns", "add", probe), Duration.ofSeconds(10));
      run(List.of("ip", "netns", "delete", probe), Duration.ofSeconds(10));
    } catch (IOException e) {
      return Optional.of("cannot create a network namespace: " + e.getMessage());
    }
    return Optional.empty();
  }

  /**
   * Creates a lab of {@code hosts} hosts (0..hosts-1), each with its namespace, address and link
   * up, and registers a shutdown hook that removes it. Throws if the lab is unavailable here.
   */
  public static NetworkLab create(int hosts) throws IOException {
    if (hosts < 1 || hosts > HOSTS_MAX) {
      throw new IllegalArgumentException("hosts must be 1.." + HOSTS_MAX + ", not " + hosts);
    }
    Optional<String> reason = unavailableReason();
    if (reason.isPresent()) {
      throw new IOException(reason.get());
    }
    NetworkLab lab = new NetworkLab(freeId(), hosts);
    Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
    try {
      lab.build();
    } catch (IOException | RuntimeException e) {
      lab.close();
      throw e;
    }
    return lab;
  }

  /** An id whose bridge does not exist, whose owner file is not taken and whose /24 is not used locally. */
  private static String freeId() throws IOException {
    Files.createDirectories(Path.of(OWNERS_DIR));
    String addresses = run(List.of("ip", "-o", "-4", "addr", "show"), COMMAND_TIMEOUT)
        + run(List.of("ip", "-4", "route", "show", "table", "all"), COMMAND_TIMEOUT);
    Set<String> links = linkNames();
    for (int attempt = 0; attempt < 100; attempt++) {
      int value = 0x8000 + RANDOM.nextInt(0x8000);
      String id = String.format("%04x", value);
      String prefix = "10." + (value >> 8) + "." + (value & 0xff) + ".";
      if (links.contains("bw" + id) || addresses.contains(" " + prefix) || addresses.contains("\n" + prefix)
          || addresses.startsWith(prefix)) {
        continue;
      }
      Path owner = Path.of(OWNERS_DIR, "bw" + id);
      try {
        Files.writeString(owner, ownerRecord(ProcessHandle.current()), java.nio.file.StandardOpenOption.CREATE_NEW);
        return id;
      } catch (java.nio.file.FileAlreadyExistsException taken) {
        // another run chose it a moment ago
      }
    }
    throw new IOException("no free lab id/subnet found in 100 attempts");
  }

  private static String ownerRecord(ProcessHandle process) {
    return process.pid() + " " + process.info().startInstant().map(Instant::toEpochMilli).orElse(0L) + "\n";
  }

  private void build() throws IOException {
    String bridge = bridge();
    run(List.of("ip", "link", "add", bridge, "type", "bridge"), COMMAND_TIMEOUT);
    run(List.of("ip", "addr", "add", gateway() + "/24", "dev", bridge), COMMAND_TIMEOUT);
    run(List.of("ip", "link", "set", bridge, "up"), COMMAND_TIMEOUT);
    for (int i = 0; i < hosts; i++) {
      String ns = namespace(i);
      String outside = "bw" + id + "v" + i;
      String inside = "bw" + id + "p" + i;
      run(List.of("ip", "netns", "add", ns), COMMAND_TIMEOUT);
      run(List.of("ip", "link", "add", outside, "type", "veth", "peer", "name", inside), COMMAND_TIMEOUT);
      run(List.of("ip", "link", "set", outside, "master", bridge), COMMAND_TIMEOUT);
      run(List.of("ip", "link", "set", outside, "up"), COMMAND_TIMEOUT);
      run(List.of("ip", "link", "set", inside, "netns", ns), COMMAND_TIMEOUT);
      run(List.of("ip", "-n", ns, "link", "set", inside, "name", "eth0"), COMMAND_TIMEOUT);
      run(List.of("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0"), COMMAND_TIMEOUT);
      run(List.of("ip", "-n", ns, "link", "set", "eth0", "up"), COMMAND_TIMEOUT);
      run(List.of("ip", "-n", ns, "link", "set", "lo", "up"), COMMAND_TIMEOUT);
      run(List.of("ip", "-n", ns, "route", "add", "default", "via", gateway()), COMMAND_TIMEOUT);
    }
  }

  /** The kernel setting that bounds TCP's retransmission back-off (Linux 6.15 and later), per network namespace. */
  static final String RTO_MAX_SYSCTL = "net.ipv4.tcp_rto_max_ms";

  /** The values the kernel takes for {@value #RTO_MAX_SYSCTL}, in ms. */
  public static final int RTO_MAX_MS_MIN = 1_000;
  public static final int RTO_MAX_MS_MAX = 120_000;

  /**
   * Bounds TCP's retransmission back-off to {@code maxMs} on every host, for connections opened
   * from now on; or says why it cannot (the kernel predates the setting). Why: with the kernel's
   * default (two minutes) a connection that had data in flight across several cuts of its link
   * retries seconds apart, so after the link is healed it stays silent until its next retry;
   * between replicas that delayed failovers by seconds (docs/chaos.md).
   */
  public Optional<String> capRetransmitBackoff(int maxMs) throws IOException {
    checkRetransmitBackoffMax(maxMs);
    if (!kernelBoundsRetransmitBackoff()) {
      return Optional.of("this kernel has no " + RTO_MAX_SYSCTL + " (Linux 6.15 and later)");
    }
    for (int i = 0; i < hosts; i++) {
      run(command(i, List.of("sysctl", "-q", "-w", RTO_MAX_SYSCTL + "=" + maxMs)), COMMAND_TIMEOUT);
    }
    return Optional.empty();
  }

  /** Host {@code i}'s bound on TCP's retransmission back-off, in ms, or empty where the kernel has none. */
  public Optional<Integer> retransmitBackoffMaxMs(int i) throws IOException {
    checkHost(i);
    if (!kernelBoundsRetransmitBackoff()) {
      return Optional.empty();
    }
    return Optional.of(Integer.parseInt(run(command(i, List.of("sysctl", "-n", RTO_MAX_SYSCTL)), COMMAND_TIMEOUT).strip()));
  }

  /** Whether this kernel has {@value #RTO_MAX_SYSCTL}. */
  public static boolean kernelBoundsRetransmitBackoff() {
    return Files.exists(Path.of("/proc/sys", RTO_MAX_SYSCTL.replace('.', '/')));
  }

  /** Fails unless {@code maxMs} is a value the kernel takes for {@value #RTO_MAX_SYSCTL}. */
  public static void checkRetransmitBackoffMax(int maxMs) {
    if (maxMs < RTO_MAX_MS_MIN || maxMs > RTO_MAX_MS_MAX) {
      throw new IllegalArgumentException(
          "the TCP back-off bound is " + RTO_MAX_MS_MIN + " to " + RTO_MAX_MS_MAX + " ms, not " + maxMs);
    }
  }

  /** This lab's id: four hex digits, also in every name it creates. */
  public String id() {
    return id;
  }

  public int hosts() {
    return hosts;
  }

  /** The bridge in the root namespace that joins the hosts. */
  public String bridge() {
    return "bw" + id;
  }

  /** The root namespace's address on the lab network. */
  public String gateway() {
    return subnetPrefix + "1";
  }

  /** The lab's /24, e.g. {@code 10.138.63.0/24}. */
  public String subnet() {
    return subnetPrefix + "0/24";
  }

  /** Host {@code i}'s network namespace. */
  public String namespace(int i) {
    checkHost(i);
    return "bw" + id + "-" + i;
  }

  /** Host {@code i}'s IPv4 address. */
  public String address(int i) {
    checkHost(i);
    return subnetPrefix + (FIRST_HOST_OCTET + i);
  }

  /** Every host's address, in host order. */
  public List<String> addresses() {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < hosts; i++) {
      out.add(address(i));
    }
    return out;
  }

  /**
   * The command line that runs {@code argv} on host {@code i}: {@code ip netns exec NS argv...}.
   * 'ip netns exec' execs the program, so the started process's pid is the program's.
   */
  public List<String> command(int i, List<String> argv) {
    List<String> out = new ArrayList<>(List.of("ip", "netns", "exec", namespace(i)));
    out.addAll(argv);
    return out;
  }

  /**
   * Cuts every link between hosts of different {@code sides}, both directions, replacing any
   * earlier cuts. Hosts in no side keep all their links; the root namespace reaches everyone.
   */
  public synchronized void partition(List<Set<Integer>> sides) throws IOException {
    Map<Integer, Integer> sideOf = new TreeMap<>();
    for (int s = 0; s < sides.size(); s++) {
      for (int host : sides.get(s)) {
        checkHost(host);
        if (sideOf.put(host, s) != null) {
          throw new IllegalArgumentException("host " + host + " is in more than one side: " + sides);
        }
      }
    }
    for (int i = 0; i < hosts; i++) {
      Set<String> cut = new TreeSet<>();
      Integer mine = sideOf.get(i);
      if (mine != null) {
        for (var other : sideOf.entrySet()) {
          if (!other.getValue().equals(mine)) {
            cut.add(address(other.getKey()));
          }
        }
      }
      applyCuts(i, cut);
    }
  }

  /** Cuts host {@code host} off from every other host (the root namespace still reaches it). */
  public void isolate(int host) throws IOException {
    checkHost(host);
    Set<Integer> others = new LinkedHashSet<>();
    for (int i = 0; i < hosts; i++) {
      if (i != host) {
        others.add(i);
      }
    }
    partition(List.of(Set.of(host), others));
  }

  /** Removes every cut. */
  public synchronized void heal() throws IOException {
    for (int i = 0; i < hosts; i++) {
      applyCuts(i, Set.of());
    }
  }

  /** Replaces host {@code i}'s drop rules with ones for {@code peers}, in one nft transaction. */
  private void applyCuts(int i, Set<String> peers) throws IOException {
    StringBuilder script = new StringBuilder();
    script.append("table inet ").append(NFT_TABLE).append(" {}\n");
    script.append("delete table inet ").append(NFT_TABLE).append('\n');
    if (!peers.isEmpty()) {
      String set = "{ " + String.join(", ", peers) + " }";
      script.append("table inet ").append(NFT_TABLE).append(" {\n");
      script.append("  chain in { type filter hook input priority 0; policy accept; ip saddr ").append(set).append(" drop; }\n");
      script.append("  chain out { type filter hook output priority 0; policy accept; ip daddr ").append(set).append(" drop; }\n");
      script.append("}\n");
    }
    run(command(i, List.of("nft", "-f", "-")), Optional.of(script.toString()), COMMAND_TIMEOUT);
  }

  private void checkHost(int i) {
    if (i < 0 || i >= hosts) {
      throw new IndexOutOfBoundsException("host " + i + " of a " + hosts + "-host lab");
    }
  }

  /**
   * Kills every process still running in the lab's namespaces, then deletes the namespaces,
   * veths and bridge. Idempotent; failures are reported on stderr, not thrown, so it is safe in
   * a shutdown hook.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs or has run; this call finishes the job either way
      }
    }
    for (String problem : remove(id, hosts)) {
      System.err.println("network lab bw" + id + ": " + problem);
    }
  }

  /**
   * Deletes the labs of runs that are gone: every {@code bw<id>} bridge or {@code bw<id>-<i>}
   * namespace whose recorded owner process is no longer alive (or has no record). Returns how
   * many labs it removed.
   */
  public static int removeStale() {
    if (unavailableReason().isPresent()) {
      return 0;
    }
    Set<String> ids = new TreeSet<>();
    Map<String, Integer> hostCounts = new TreeMap<>();
    try {
      for (String line : run(List.of("ip", "netns", "list"), COMMAND_TIMEOUT).split("\n")) {
        String name = line.trim().split("\\s+")[0];
        Matcher m = LAB_NAME.matcher(name);
        if (m.matches() && name.contains("-")) {
          ids.add(m.group(1));
          int host = Integer.parseInt(name.substring(name.indexOf('-') + 1));
          hostCounts.merge(m.group(1), host + 1, Math::max);
        }
      }
      for (String link : linkNames()) {
        Matcher m = LAB_NAME.matcher(link);
        if (m.matches()) {
          ids.add(m.group(1));
        }
      }
      try (var owners = Files.list(Path.of(OWNERS_DIR))) {
        for (Path p : owners.toList()) {
          Matcher m = LAB_NAME.matcher(p.getFileName().toString());
          if (m.matches()) {
            ids.add(m.group(1));
          }
        }
      } catch (java.nio.file.NoSuchFileException none) {
        // no lab was ever made here
      }
    } catch (IOException e) {
      System.err.println("network lab: cannot list stale labs: " + e.getMessage());
      return 0;
    }
    int removed = 0;
    for (String id : ids) {
      if (!ownerAlive(id)) {
        for (String problem : remove(id, hostCounts.getOrDefault(id, 0))) {
          System.err.println("network lab bw" + id + ": " + problem);
        }
        removed++;
      }
    }
    return removed;
  }

  private static boolean ownerAlive(String id) {
    try {
      String[] record = Files.readString(Path.of(OWNERS_DIR, "bw" + id)).trim().split(" ");
      long pid = Long.parseLong(record[0]);
      long startMs = Long.parseLong(record[1]);
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          .filter(p -> startMs == 0 || p.info().startInstant().map(Instant::toEpochMilli).orElse(0L) == startMs)
          .isPresent();
    } catch (IOException | RuntimeException unreadable) {
      return false;
    }
  }

  /** Removes lab {@code id}'s processes, namespaces (at least {@code hosts}), veths, bridge and owner record; returns the problems met. */
  private static List<String> remove(String id, int hosts) {
    List<String> problems = new ArrayList<>();
    Set<String> namespaces = new TreeSet<>();
    for (int i = 0; i < hosts; i++) {
      namespaces.add("bw" + id + "-" + i);
    }
    try {
      for (String line : run(List.of("ip", "netns", "list"), COMMAND_TIMEOUT).split("\n")) {
        String name = line.trim().split("\\s+")[0];
        if (name.startsWith("bw" + id + "-")) {
          namespaces.add(name);
        }
      }
    } catch (IOException e) {
      problems.add(e.getMessage());
    }
    Set<String> existing = new HashSet<>();
    try {
      for (String line : run(List.of("ip", "netns", "list"), COMMAND_TIMEOUT).split("\n")) {
        existing.add(line.trim().split("\\s+")[0]);
      }
    } catch (IOException e) {
      problems.add(e.getMessage());
    }
    namespaces.retainAll(existing);
    killAll(namespaces, problems);
    for (String ns : namespaces) {
      try {
        run(List.of("ip", "netns", "delete", ns), COMMAND_TIMEOUT);
      } catch (IOException e) {
        problems.add(e.getMessage());
      }
    }
    try {
      for (String link : linkNames()) {
        if (link.equals("bw" + id) || link.matches("bw" + id + "[vp]\\d+")) {
          try {
            run(List.of("ip", "link", "delete", link), COMMAND_TIMEOUT);
          } catch (IOException e) {
            // deleting one end of a veth pair takes the other with it
            if (linkNames().contains(link)) {
              problems.add(e.getMessage());
            }
          }
        }
      }
    } catch (IOException e) {
      problems.add(e.getMessage());
    }
    try {
      Files.deleteIfExists(Path.of(OWNERS_DIR, "bw" + id));
    } catch (IOException e) {
      problems.add("cannot delete its owner record: " + e);
    }
    return problems;
  }

  /** Terminates the processes in {@code namespaces}, forcibly after a grace period. */
  private static void killAll(Set<String> namespaces, List<String> problems) {
    List<ProcessHandle> running = new ArrayList<>();
    for (String ns : namespaces) {
      try {
        for (String pid : run(List.of("ip", "netns", "pids", ns), COMMAND_TIMEOUT).split("\\s+")) {
          if (!pid.isBlank() && Long.parseLong(pid) != ProcessHandle.current().pid()) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(running::add);
          }
        }
      } catch (IOException e) {
        problems.add(e.getMessage());
      }
    }
    running.forEach(ProcessHandle::destroy);
    awaitExit(running, KILL_GRACE);
    running.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    awaitExit(running, KILL_GRACE);
    running.stream().filter(ProcessHandle::isAlive).forEach(p -> problems.add("process " + p.pid() + " survived SIGKILL"));
  }

  private static void awaitExit(List<ProcessHandle> processes, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    for (ProcessHandle p : processes) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return;
      }
      try {
        p.onExit().get(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        // checked again by the caller
      }
    }
  }

  private static Set<String> linkNames() throws IOException {
    Set<String> names = new TreeSet<>();
    for (String line : run(List.of("ip", "-o", "link", "show"), COMMAND_TIMEOUT).split("\n")) {
      // "7: bw8a3fv0@if6: <BROADCAST,...": the name sits between the first ": " and the "@" or ":".
      String[] parts = line.split(": ", 3);
      if (parts.length >= 2) {
        String name = parts[1];
        int at = name.indexOf('@');
        names.add(at >= 0 ? name.substring(0, at) : name);
      }
    }
    return names;
  }

  static String run(List<String> argv, Duration timeout) throws IOException {
    return run(argv, Optional.empty(), timeout);
  }

  /** Runs {@code argv} to completion within {@code timeout}; its stdout, or an exception naming it with its stderr. */
  static String run(List<String> argv, Optional<String> stdin, Duration timeout) throws IOException {
    Process process;
    try {
      process = new ProcessBuilder(argv).redirectInput(stdin.isPresent() ? ProcessBuilder.Redirect.PIPE
          : ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    } catch (IOException e) {
      throw new CommandFailedException(String.join(" ", argv) + ": cannot start: " + e.getMessage());
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread outReader = Thread.ofVirtual().start(() -> drain(process.getInputStream(), out));
    Thread errReader = Thread.ofVirtual().start(() -> drain(process.getErrorStream(), err));
    try {
      if (stdin.isPresent()) {
        try (OutputStream in = process.getOutputStream()) {
          in.write(stdin.get().getBytes(StandardCharsets.UTF_8));
        }
      }
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new CommandFailedException(String.join(" ", argv) + ": no answer within " + timeout.toSeconds() + " s");
      }
      outReader.join(timeout.toMillis());
      errReader.join(timeout.toMillis());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CommandFailedException(String.join(" ", argv) + ": interrupted");
    }
    if (process.exitValue() != 0) {
      throw new CommandFailedException(String.join(" ", argv) + ": exit " + process.exitValue() + ": "
          + err.toString(StandardCharsets.UTF_8).strip());
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static void drain(InputStream in, ByteArrayOutputStream to) {
    try (in) {
      in.transferTo(to);
    } catch (IOException ignored) {
      // the process went away; what was read is kept
    }
  }

  @Override
  public String toString() {
    return "network lab " + bridge() + " (" + hosts + " hosts on " + subnet() + ")";
  }
}
