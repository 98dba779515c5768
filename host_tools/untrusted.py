"""Text a device sent (its firmware revision, an update's version and note): anything on the air can claim to
be the device, so such text is made harmless before it is printed or stored.

    device_text(raw, limit=64) -> str   # UTF-8 (bad bytes replaced); control, format (bidi overrides) and
                                        # line/paragraph separator characters replaced by U+FFFD; clipped
"""
import unicodedata

_UNSAFE = ("Cc", "Cf", "Zl", "Zp")


def device_text(raw, limit=64):
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", "replace")
    text = "".join("\ufffd" if unicodedata.category(ch) in _UNSAFE else ch for ch in text)
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"
