package dev.bulwark.cli;

/** Text for the command's self-contained HTML reports (bench, chaos). */
public final class Html {
  private Html() {}

  /** {@code text} as HTML element content. */
  public static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
