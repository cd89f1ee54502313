package dev.bulwark.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.rocksdb.RocksDB;
import org.rocksdb.util.Environment;

/**
 * Loads RocksDB's native library so that no copy of it outlives the process. RocksDB's own loader
 * copies the 15 MB library out of its jar into a new temporary file per process and deletes it
 * only when the JVM exits normally, so every replica that was killed or crashed left one behind:
 * a chaos run found 399 of them, 5.8 GB, in /tmp. Here the library is copied into a private
 * temporary directory, loaded from there, and deleted at once; the loaded mapping outlives the
 * file (on Linux and macOS), so a process killed at any later moment leaves nothing. Only the
 * few milliseconds between copy and load are exposed.
 */
final class RocksDbNative {
  private RocksDbNative() {}

  private static boolean loaded;

  /** Loads the library once per process; later calls return at once. */
  static synchronized void load() {
    if (loaded) {
      return;
    }
    // The jar's name for this platform's library, as RocksDB's own loader looks it up.
    String resource = Environment.getJniLibraryFileName("rocksdb");
    try (InputStream library = RocksDB.class.getClassLoader().getResourceAsStream(resource)) {
      if (library != null) {
        loadFrom(library);
      }
    } catch (IOException | UnsatisfiedLinkError e) {
      // A temporary directory that cannot be written or executed from: RocksDB's own loader also
      // looks on java.library.path and in ROCKSDB_SHAREDLIB_DIR.
      System.getLogger(RocksDbNative.class.getName()).log(System.Logger.Level.WARNING,
          "could not load RocksDB's native library from a private copy ({0}); using RocksDB's loader", e.toString());
    }
    // Returns at once when the library is loaded; otherwise RocksDB's loader knows the fallbacks
    // (a system library, other names, a platform this jar has no library for).
    RocksDB.loadLibrary();
    loaded = true;
  }

  private static void loadFrom(InputStream library) throws IOException {
    Path directory = Files.createTempDirectory("bulwark-rocksdb-");
    // RocksDB.loadLibrary(paths) looks in each path for getJniLibraryFileName("rocksdbjni"), which
    // in 10.10 is "librocksdbjnijni-linux64.so", not the jar's name: the file also gets the jar's
    // name (a hard link, where links can be made), so a RocksDB that corrects the name finds it too.
    Path file = directory.resolve(Environment.getJniLibraryFileName("rocksdbjni"));
    Path alias = directory.resolve(Environment.getJniLibraryFileName("rocksdb"));
    try {
      Files.copy(library, file);
      if (!alias.equals(file)) {
        try {
          Files.createLink(alias, file);
        } catch (IOException | UnsupportedOperationException e) {
          // only the name this RocksDB looks for, then
        }
      }
      RocksDB.loadLibrary(List.of(directory.toString()));
    } finally {
      deleteOrLeaveForExit(alias);
      deleteOrLeaveForExit(file);
      deleteOrLeaveForExit(directory);
    }
  }

  /** Deletes now; where a loaded library cannot be deleted (Windows), at a normal exit. */
  private static void deleteOrLeaveForExit(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      path.toFile().deleteOnExit();
    }
  }
}
