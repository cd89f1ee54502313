package dev.bulwark.cli;

import dev.bulwark.store.Backend;
import dev.bulwark.store.ObjectStore;
import dev.bulwark.store.StoreConfig;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Lists what a database says about itself: every table id with its name, version and type. */
@Command(name = "tables", mixinStandardHelpOptions = true,
    description = "List the tables a database describes in its meta table.")
final class TablesCommand implements Runnable {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "The database directory.")
  Path directory;

  @Option(names = "--backend", defaultValue = "rocksdb", description = "Storage engine: rocksdb or leveldb (default: ${DEFAULT-VALUE}).",
      converter = BackendConverter.class)
  Backend backend;

  @Override
  public void run() {
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException("no database directory at " + directory);
    }
    PrintWriter out = spec.commandLine().getOut();
    try (ObjectStore store = ObjectStore.open(StoreConfig.defaults(directory).withBackend(backend), List.of())) {
      List<ObjectStore.TableInfo> tables = store.storedTables();
      out.printf("%d tables in %s%n", tables.size(), directory);
      for (ObjectStore.TableInfo t : tables) {
        out.printf("%-28s v%-3d %s%n", t.name(), t.version(), t.description());
      }
    }
  }
}
