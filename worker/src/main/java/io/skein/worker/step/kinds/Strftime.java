package io.skein.worker.step.kinds;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * Python's {@code strftime} patterns (what Data Designer's {@code convert_to} takes for datetimes)
 * on Java's time types. java.time has no strftime, and no maintained library maps one to the other,
 * so the common directives are mapped here; an unknown one is an error at submission.
 */
final class Strftime {

  private static final String KNOWN = "YmdHMSyBbAaIpjfZz%eU";

  private Strftime() {}

  /** Null if the pattern is usable, else what is wrong with it. */
  static String problem(String pattern) {
    for (int i = 0; i < pattern.length(); i++) {
      if (pattern.charAt(i) == '%') {
        if (i + 1 >= pattern.length() || KNOWN.indexOf(pattern.charAt(i + 1)) < 0) {
          return "unsupported strftime directive `%" + (i + 1 < pattern.length() ? pattern.charAt(i + 1) : "") + "` (known: %"
              + String.join(" %", KNOWN.split("")) + ")";
        }
        i++;
      }
    }
    return null;
  }

  static String format(LocalDateTime t, String pattern) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < pattern.length(); i++) {
      char c = pattern.charAt(i);
      if (c != '%' || i + 1 >= pattern.length()) {
        out.append(c);
        continue;
      }
      char d = pattern.charAt(++i);
      out.append(switch (d) {
        case 'Y' -> String.format("%04d", t.getYear());
        case 'y' -> String.format("%02d", t.getYear() % 100);
        case 'm' -> String.format("%02d", t.getMonthValue());
        case 'd' -> String.format("%02d", t.getDayOfMonth());
        case 'e' -> String.format("%2d", t.getDayOfMonth());
        case 'H' -> String.format("%02d", t.getHour());
        case 'I' -> String.format("%02d", t.getHour() % 12 == 0 ? 12 : t.getHour() % 12);
        case 'p' -> t.getHour() < 12 ? "AM" : "PM";
        case 'M' -> String.format("%02d", t.getMinute());
        case 'S' -> String.format("%02d", t.getSecond());
        case 'f' -> String.format("%06d", t.getNano() / 1000);
        case 'j' -> String.format("%03d", t.getDayOfYear());
        case 'U' -> t.format(DateTimeFormatter.ofPattern("ww", Locale.ROOT));
        case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
        case 'b' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
        case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
        case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
        case 'Z', 'z' -> "";
        default -> "%";
      });
    }
    return out.toString();
  }
}
