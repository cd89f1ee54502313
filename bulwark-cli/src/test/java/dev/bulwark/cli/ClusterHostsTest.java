package dev.bulwark.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bulwark.cli.ClusterCommandTest.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 'cluster init --hosts' for replicas on different machines: each replica listens on and is
 * advertised at its own host, on the same ports as the others, and its certificate names that
 * host; 'cluster up' refuses such a cluster; 'add-replica --host' prepares a replica for another
 * machine. No process is started (MultiHostTest runs such a cluster).
 */
class ClusterHostsTest {
  @TempDir
  Path dir;

  @Test
  void initWritesEachReplicasHostIntoItsSettingsAndCertificate() throws Exception {
    Path cluster = dir.resolve("c");
    Run init = ClusterCommandTest.run("cluster", "init", cluster.toString(), "--hosts", "10.1.2.3,db2.example.com,10.1.2.5");
    assertThat(init.exit()).as(init.err()).isZero();
    assertThat(init.out()).contains("3 replicas, clients on 10.1.2.3:7201, db2.example.com:7201, 10.1.2.5:7201")
        .contains("bulwark serve rN/replica.properties");

    ReplicaSettings r2 = ReplicaSettings.read(cluster.resolve("r2/replica.properties"));
    assertThat(r2.ingressHost()).isEqualTo("db2.example.com");
    assertThat(r2.httpHost()).isEqualTo("db2.example.com");
    assertThat(r2.ingressPort()).isEqualTo(7201);
    assertThat(r2.httpPort()).isEqualTo(7301);
    assertThat(r2.raftPeers()).isEqualTo(Map.of("r1", "10.1.2.3:7101", "r2", "db2.example.com:7101", "r3", "10.1.2.5:7101"));
    assertThat(r2.httpPeers()).containsEntry("r3", "10.1.2.5:7301");
    assertThat(sans(cluster.resolve("r1/replica.crt"))).containsExactly("ip:10.1.2.3");
    assertThat(sans(cluster.resolve("r2/replica.crt"))).containsExactly("dns:db2.example.com");

    Run up = ClusterCommandTest.run("cluster", "up", cluster.toString());
    assertThat(up.exit()).isNotZero();
    assertThat(up.err()).contains("starts local clusters only", "r1 on 10.1.2.3", "run 'bulwark serve");

    Run local = ClusterCommandTest.run("cluster", "add-replica", cluster.toString());
    assertThat(local.exit()).isNotZero();
    assertThat(local.err()).contains("--host");
    Run added = ClusterCommandTest.run("cluster", "add-replica", cluster.toString(), "--host", "10.1.2.6");
    assertThat(added.exit()).as(added.err()).isZero();
    assertThat(added.out()).contains("r4 prepared", "Raft 10.1.2.6:7101", "--started r4", "--join");
    ReplicaSettings r4 = ReplicaSettings.read(cluster.resolve("r4/replica.properties"));
    assertThat(r4.raftPeers()).containsEntry("r4", "10.1.2.6:7101").hasSize(4);
    assertThat(sans(cluster.resolve("r4/replica.crt"))).containsExactly("ip:10.1.2.6");
    // Prepared only: the members' settings do not name it until it has joined.
    assertThat(ReplicaSettings.read(cluster.resolve("r1/replica.properties")).raftPeers()).hasSize(3);
  }

  @Test
  void twoReplicasOnOneHostTakeConsecutivePortsAndLocalClustersKeepLoopbackNames() throws Exception {
    Path shared = dir.resolve("shared");
    assertThat(ClusterCommandTest.run("cluster", "init", shared.toString(), "--hosts", "10.1.2.3,10.1.2.3,10.1.2.4",
        "--base-port", "8000").exit()).isZero();
    assertThat(ReplicaSettings.read(shared.resolve("r1/replica.properties")).raftPeers())
        .isEqualTo(Map.of("r1", "10.1.2.3:8001", "r2", "10.1.2.3:8002", "r3", "10.1.2.4:8001"));

    Path local = dir.resolve("local");
    assertThat(ClusterCommandTest.run("cluster", "init", local.toString(), "--replicas", "2").exit()).isZero();
    ReplicaSettings r2 = ReplicaSettings.read(local.resolve("r2/replica.properties"));
    assertThat(r2.raftPeers()).isEqualTo(Map.of("r1", "127.0.0.1:7101", "r2", "127.0.0.1:7102"));
    assertThat(r2.ingressPort()).isEqualTo(7202);
    assertThat(r2.httpHost()).isEqualTo("127.0.0.1");
    assertThat(sans(local.resolve("r2/replica.crt"))).containsExactlyInAnyOrder("dns:localhost", "ip:127.0.0.1");
  }

  @Test
  void refusesHostsItCannotUse() {
    for (String hosts : List.of("10.1.2.3,10.1.2.4", "::1,::2,::3", "10.1.2.300,a,b", "0.0.0.0,a,b", "a_b,c,d")) {
      Run init = ClusterCommandTest.run("cluster", "init", dir.resolve("x").toString(), "--replicas", "3", "--hosts", hosts);
      assertThat(init.exit()).as(hosts).isNotZero();
      assertThat(init.err()).as(hosts).isNotBlank();
      assertThat(dir.resolve("x")).as(hosts).doesNotExist();
    }
  }

  private static List<String> sans(Path certificate) throws Exception {
    X509Certificate cert;
    try (var in = Files.newInputStream(certificate)) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    List<String> out = new ArrayList<>();
    for (List<?> name : cert.getSubjectAlternativeNames()) {
      out.add(((Integer) name.get(0) == 2 ? "dns:" : "ip:") + name.get(1));
    }
    return out;
  }
}
