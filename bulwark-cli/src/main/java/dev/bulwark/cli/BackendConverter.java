package dev.bulwark.cli;

import dev.bulwark.store.Backend;
import picocli.CommandLine;

/** Parses "rocksdb" or "leveldb", with an error that lists both. */
final class BackendConverter implements CommandLine.ITypeConverter<Backend> {
  @Override
  public Backend convert(String value) {
    try {
      return Backend.parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }
}
