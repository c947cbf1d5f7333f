//! Writing a library XML the way Apple's Music app (and iTunes before it) writes
//! `Library.xml`: the plist DOCTYPE, tab indentation, one `<key>…</key><value>` pair per line,
//! `&#38;` for ampersands, and `Location`s as percent-encoded `file://` URLs whose names are in
//! NFD, as macOS stores them.

use std::fmt::Write;

use unicode_normalization::UnicodeNormalization;

/// A value in the XML.
#[derive(Clone, Debug)]
pub enum V {
    Int(i64),
    Str(String),
    Date(&'static str),
    True,
    False,
    /// Base64 data (smart playlist criteria), written across lines as Music does.
    Data(&'static str),
}

pub fn s(text: &str) -> V {
    V::Str(text.to_owned())
}

/// One track's dictionary (its `Track ID` comes first).
pub struct XmlTrack {
    pub id: i64,
    pub fields: Vec<(&'static str, V)>,
}

/// One playlist's dictionary; `items` are Track IDs (`None`: no `Playlist Items` key, as for an
/// empty folder).
pub struct XmlPlaylist {
    pub fields: Vec<(&'static str, V)>,
    pub items: Option<Vec<i64>>,
}

fn escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
}

fn value(v: &V, indent: &str) -> String {
    match v {
        V::Int(i) => format!("<integer>{i}</integer>"),
        V::Str(t) => format!("<string>{}</string>", escape(t)),
        V::Date(d) => format!("<date>{d}</date>"),
        V::True => "<true/>".to_owned(),
        V::False => "<false/>".to_owned(),
        V::Data(b64) => {
            let mut out = String::from("\n");
            out.push_str(indent);
            out.push_str("<data>\n");
            for chunk in b64.as_bytes().chunks(60) {
                out.push_str(indent);
                out.push_str(std::str::from_utf8(chunk).unwrap());
                out.push('\n');
            }
            out.push_str(indent);
            out.push_str("</data>");
            out
        }
    }
}

fn pairs(out: &mut String, fields: &[(&str, V)], indent: &str) {
    for (key, v) in fields {
        writeln!(out, "{indent}<key>{key}</key>{}", value(v, indent)).unwrap();
    }
}

/// `path` as Music writes a Location: `file://` (or `file://localhost` as older iTunes did),
/// NFD, percent-encoded UTF-8.
pub fn url(path: &str, localhost: bool) -> String {
    let nfd: String = path.nfd().collect();
    let mut out = String::from(if localhost {
        "file://localhost"
    } else {
        "file://"
    });
    for b in nfd.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/&()!'+,;=@:$".contains(&b) {
            out.push(char::from(b));
        } else {
            write!(out, "%{b:02X}").unwrap();
        }
    }
    out
}

/// The whole library XML.
pub fn library_xml(tracks: &[XmlTrack], playlists: &[XmlPlaylist]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n",
    );
    pairs(
        &mut out,
        &[
            ("Major Version", V::Int(1)),
            ("Minor Version", V::Int(1)),
            ("Application Version", s("1.4.5.7")),
            ("Date", V::Date("2025-11-30T18:02:11Z")),
            ("Features", V::Int(5)),
            ("Show Content Ratings", V::True),
            ("Library Persistent ID", s("5D0C1E2F3A4B5C6D")),
        ],
        "\t",
    );
    out.push_str("\t<key>Tracks</key>\n\t<dict>\n");
    for t in tracks {
        writeln!(out, "\t\t<key>{}</key>\n\t\t<dict>", t.id).unwrap();
        pairs(&mut out, &[("Track ID", V::Int(t.id))], "\t\t\t");
        pairs(&mut out, &t.fields, "\t\t\t");
        out.push_str("\t\t</dict>\n");
    }
    out.push_str("\t</dict>\n\t<key>Playlists</key>\n\t<array>\n");
    for p in playlists {
        out.push_str("\t\t<dict>\n");
        pairs(&mut out, &p.fields, "\t\t\t");
        if let Some(items) = &p.items {
            out.push_str("\t\t\t<key>Playlist Items</key>\n\t\t\t<array>\n");
            for id in items {
                writeln!(
                    out,
                    "\t\t\t\t<dict>\n\t\t\t\t\t<key>Track ID</key><integer>{id}</integer>\n\t\t\t\t</dict>"
                )
                .unwrap();
            }
            out.push_str("\t\t\t</array>\n");
        }
        out.push_str("\t\t</dict>\n");
    }
    out.push_str("\t</array>\n");
    pairs(
        &mut out,
        &[(
            "Music Folder",
            s("file:///Users/me/Music/Music/Media.localized/"),
        )],
        "\t",
    );
    out.push_str("</dict>\n</plist>\n");
    out
}
