package dev.bulwark.server.sim;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs seeds on a worker's stores. */
final class SimulatorRunner {
  private SimulatorRunner() {}

  /**
   * Where RocksDB stores go: in memory ({@code /dev/shm}) when the machine has it, since a
   * RocksDB open syncs its files and the simulator opens four stores at a time; else the temp directory.
   */
  static Path scratchDirectory() throws IOException {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return Files.createTempDirectory(shm, "bulwark-sim");
    }
    return Files.createTempDirectory("bulwark-sim");
  }

  static Simulation.Result run(long seed, SimStores stores, boolean fullTrace) {
    try (Simulation sim = new Simulation(seed, stores, fullTrace)) {
      return sim.run();
    }
  }
}
