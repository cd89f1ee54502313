package dev.bulwark.server.sim;

import java.nio.file.Path;

/** Runs seeds on a worker's reused stores. */
final class SimulatorRunner {
  private SimulatorRunner() {}

  /**
   * Where the seeds' stores go: in memory ({@code /dev/shm}) when the machine has it, since a
   * RocksDB open syncs its files and the simulator opens four stores per seed; else the temp directory.
   */
  static Path scratchDirectory() throws java.io.IOException {
    Path shm = Path.of("/dev/shm");
    if (java.nio.file.Files.isDirectory(shm) && java.nio.file.Files.isWritable(shm)) {
      return java.nio.file.Files.createTempDirectory(shm, "bulwark-sim");
    }
    return java.nio.file.Files.createTempDirectory("bulwark-sim");
  }

  static Simulation.Result run(long seed, SimStores stores, boolean fullTrace) {
    try (Simulation sim = new Simulation(seed, stores.fresh(), fullTrace)) {
      return sim.run();
    }
  }
}
