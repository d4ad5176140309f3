//! Files for tests: PDFs (with text, or scanned) written with the same library that
//! reads them (lopdf), and a picture bomb.

use pdf_extract::content::{Content, Operation};
use pdf_extract::{Document, Object, Stream, dictionary};

/// A PDF of `pages`, each page with the given lines of text (an empty list: a page with no
/// text, as a scan's are).
pub fn pdf(pages: &[Vec<String>]) -> Vec<u8> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let font = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources = document.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font },
    });
    let mut kids = Vec::new();
    for lines in pages {
        let mut operations = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("TL", vec![14.into()]),
            Operation::new("Td", vec![72.into(), 770.into()]),
        ];
        for line in lines {
            operations.push(Operation::new(
                "Tj",
                vec![Object::string_literal(line.as_str())],
            ));
            operations.push(Operation::new("T*", vec![]));
        }
        operations.push(Operation::new("ET", vec![]));
        kids.push(page(&mut document, pages_id, operations, dictionary! {}));
    }
    saved(
        document,
        pages_id,
        kids,
        dictionary! {
            "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        },
    )
}

/// A page of `document` under `pages_id` drawn by `operations`, with `own` (its resources,
/// its size) beside.
fn page(
    document: &mut Document,
    pages_id: pdf_extract::ObjectId,
    operations: Vec<Operation>,
    own: pdf_extract::Dictionary,
) -> Object {
    let content = Content { operations };
    let stream = document.add_object(Stream::new(
        dictionary! {},
        content.encode().expect("the page's content encodes"),
    ));
    let mut page = dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => stream,
    };
    page.extend(&own);
    document.add_object(page).into()
}

/// `document` with its page tree (`kids` under `pages_id`, with `inherited` for them all)
/// and catalog, as a file.
fn saved(
    mut document: Document,
    pages_id: pdf_extract::ObjectId,
    kids: Vec<Object>,
    inherited: pdf_extract::Dictionary,
) -> Vec<u8> {
    let count = kids.len() as i64;
    let mut pages = dictionary! {
        "Type" => "Pages",
        "Kids" => kids,
        "Count" => count,
    };
    pages.extend(&inherited);
    document.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog = document.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    document.trailer.set("Root", catalog);
    let mut file = Vec::new();
    document.save_to(&mut file).expect("the PDF is written");
    file
}

/// A scan as a scanner writes one: each page of A4 (595×842 points) is one JPEG
/// (`jpeg`, `width`×`height` pixels, RGB) drawn over the whole page, and no text.
pub fn scan(pages: &[(Vec<u8>, u32, u32)]) -> Vec<u8> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    let mut kids = Vec::new();
    for (jpeg, width, height) in pages {
        let image = document.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(*width),
                "Height" => i64::from(*height),
                "ColorSpace" => "DeviceRGB",
                "BitsPerComponent" => 8,
                "Filter" => "DCTDecode",
            },
            jpeg.clone(),
        ));
        let operations = vec![
            Operation::new("q", vec![]),
            Operation::new(
                "cm",
                vec![
                    595.into(),
                    0.into(),
                    0.into(),
                    842.into(),
                    0.into(),
                    0.into(),
                ],
            ),
            Operation::new("Do", vec!["Im0".into()]),
            Operation::new("Q", vec![]),
        ];
        kids.push(page(
            &mut document,
            pages_id,
            operations,
            dictionary! {
                "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            },
        ));
    }
    saved(document, pages_id, kids, dictionary! {})
}

/// A PNG whose header claims `width`×`height`, with no pixels behind it.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(png: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&body);
        png.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    // The start of a compressed stream, and nothing after it.
    chunk(&mut png, b"IDAT", &[0x78, 0x9c, 0x01, 0x00]);
    chunk(&mut png, b"IEND", &[]);
    png
}
