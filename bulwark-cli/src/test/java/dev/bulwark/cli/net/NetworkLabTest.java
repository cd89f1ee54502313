package dev.bulwark.cli.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-host lab: a listener on host 0 is reached from host 1 and from the root namespace;
 * a partition cuts host 1 off from it (both directions) while the root namespace still reaches
 * it; heal restores the link; close kills the listener and leaves no namespace or link behind.
 * Needs root, ip and nft: skipped with the reason otherwise.
 */
class NetworkLabTest {
  private static final int PORT = 7000;

  @TempDir
  Path dir;

  @BeforeAll
  static void needsLab() {
    Optional<String> reason = NetworkLab.unavailableReason();
    Assumptions.assumeTrue(reason.isEmpty(), () -> "skipped: " + reason.orElse(""));
  }

  @Test
  void hostsReachEachOtherUntilPartitionedAndCloseLeavesNothing() throws Exception {
    Path listener = dir.resolve("Listen.java");
    Files.writeString(listener, """
        import java.net.*;
        public class Listen {
          public static void main(String[] a) throws Exception {
            try (ServerSocket s = new ServerSocket()) {
              s.bind(new InetSocketAddress(a[0], Integer.parseInt(a[1])));
              while (true) {
                try (Socket c = s.accept()) {
                  c.getOutputStream().write("hello\\n".getBytes());
                }
              }
            }
          }
        }
        """);
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    NetworkLab lab = NetworkLab.create(3);
    Process server;
    try {
      assertThat(lab.namespace(2)).isEqualTo(lab.bridge() + "-2").hasSizeLessThanOrEqualTo(15);
      assertThat(lab.addresses()).hasSize(3).doesNotHaveDuplicates().allMatch(a -> a.startsWith("10."));
      assertThat(NetworkLab.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10))).contains(lab.namespace(0));

      String address = lab.address(0);
      server = new ProcessBuilder(lab.command(0, List.of(javaBin, listener.toString(), address, Integer.toString(PORT))))
          .redirectErrorStream(true).redirectOutput(dir.resolve("listen.log").toFile()).start();
      assertThat(awaitReachable(address)).as("listener on host 0 reached from the root namespace").isTrue();
      assertThat(NetworkLab.run(List.of("ip", "netns", "pids", lab.namespace(0)), Duration.ofSeconds(10)))
          .as("'ip netns exec' execs: the started process is the listener")
          .contains(Long.toString(server.pid()));

      assertThat(probeFrom(lab, 1, address)).isEqualTo("hello");
      assertThat(probeFrom(lab, 2, address)).isEqualTo("hello");

      lab.partition(List.of(Set.of(0, 2), Set.of(1)));
      lab.partition(List.of(Set.of(0, 2), Set.of(1)));
      assertThat(probeFrom(lab, 1, address)).as("host 1 is cut from host 0").isEmpty();
      assertThat(probeFrom(lab, 2, address)).as("host 2 is on host 0's side").isEqualTo("hello");
      assertThat(reachable(address)).as("the root namespace still reaches host 0").isTrue();

      lab.isolate(0);
      assertThat(probeFrom(lab, 2, address)).as("host 0 isolated").isEmpty();
      assertThat(reachable(address)).isTrue();

      lab.heal();
      lab.heal();
      assertThat(probeFrom(lab, 1, address)).isEqualTo("hello");

      // The back-off bound is each namespace's own: the root namespace keeps its value.
      String rootBound = NetworkLab.kernelBoundsRetransmitBackoff()
          ? Files.readString(Path.of("/proc/sys/net/ipv4/tcp_rto_max_ms")).strip() : "";
      if (lab.capRetransmitBackoff(1_000).isEmpty()) {
        for (int i = 0; i < 3; i++) {
          assertThat(lab.retransmitBackoffMaxMs(i)).as("host %d", i).contains(1_000);
        }
        assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/tcp_rto_max_ms")).strip()).isEqualTo(rootBound);
      } else {
        assertThat(lab.retransmitBackoffMaxMs(0)).isEmpty();
      }
      assertThatThrownBy(() -> lab.capRetransmitBackoff(999)).isInstanceOf(IllegalArgumentException.class);
      assertThat(probeFrom(lab, 2, address)).isEqualTo("hello");
      assertThatThrownBy(() -> lab.partition(List.of(Set.of(0), Set.of(0, 1)))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> lab.address(3)).isInstanceOf(IndexOutOfBoundsException.class);
    } finally {
      lab.close();
    }
    lab.close();
    assertThat(server.waitFor(10, TimeUnit.SECONDS)).as("close killed the listener").isTrue();
    String namespaces = NetworkLab.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10));
    String links = NetworkLab.run(List.of("ip", "-o", "link", "show"), Duration.ofSeconds(10));
    assertThat(namespaces).doesNotContain(lab.bridge());
    assertThat(links).doesNotContain(lab.bridge());
    assertThat(Path.of(NetworkLab.OWNERS_DIR, lab.bridge())).doesNotExist();
  }

  @Test
  void removeStaleDeletesLabsWhoseOwnerIsGoneAndKeepsLiveOnes() throws Exception {
    Process dead = new ProcessBuilder("true").start();
    dead.waitFor();
    NetworkLab orphan = NetworkLab.create(2);
    NetworkLab live = NetworkLab.create(1);
    try {
      Files.writeString(Path.of(NetworkLab.OWNERS_DIR, orphan.bridge()), dead.pid() + " 1\n");
      assertThat(NetworkLab.removeStale()).isGreaterThanOrEqualTo(1);
      String namespaces = NetworkLab.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10));
      String links = NetworkLab.run(List.of("ip", "-o", "link", "show"), Duration.ofSeconds(10));
      assertThat(namespaces).doesNotContain(orphan.bridge()).contains(live.namespace(0));
      assertThat(links).doesNotContain(orphan.bridge()).contains(live.bridge());
    } finally {
      orphan.close();
      live.close();
    }
    assertThat(NetworkLab.run(List.of("ip", "netns", "list"), Duration.ofSeconds(10))).doesNotContain(live.bridge());
  }

  /** Connects from the root namespace within 30 s (the listener compiles its source first). */
  private static boolean awaitReachable(String address) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      if (reachable(address)) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }

  private static boolean reachable(String address) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(address, PORT), 2000);
      s.setSoTimeout(2000);
      return "hello".equals(new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine());
    } catch (IOException e) {
      return false;
    }
  }

  /** The listener's greeting as read from host {@code host} (bash's /dev/tcp), or "" if it cannot connect within 3 s. */
  private static String probeFrom(NetworkLab lab, int host, String address) throws IOException {
    List<String> argv = lab.command(host, List.of("timeout", "3", "bash", "-c",
        "exec 3<>/dev/tcp/" + address + "/" + PORT + " && read -r line <&3 && echo \"$line\""));
    try {
      return NetworkLab.run(argv, Duration.ofSeconds(10)).strip();
    } catch (NetworkLab.CommandFailedException cut) {
      return "";
    }
  }
}
