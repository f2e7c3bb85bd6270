//! Office Open XML writers: the minimal set of parts Excel, Word and PowerPoint need to open a
//! file (content types, relationships, the main part, properties), deflated as Office does.

use crate::Rng;
use crate::text::{self, xml_escape};
use crate::zip_writer::{Method, ZipWriter};

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n";

fn core_props(title: &str, author: &str) -> String {
    format!(
        "{XML_DECL}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>{}</dc:title><dc:creator>{}</dc:creator><dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-04-01T00:00:00Z</dcterms:created></cp:coreProperties>",
        xml_escape(title),
        xml_escape(author)
    )
}

fn package(parts: &[(&str, String)]) -> Vec<u8> {
    let mut z = ZipWriter::new();
    for (name, body) in parts {
        z.add(name, body.as_bytes(), Method::Deflated);
    }
    z.finish()
}

fn root_rels(main: &str, main_type: &str) -> String {
    format!(
        "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/{main_type}\" Target=\"{main}\"/><Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/></Relationships>"
    )
}

fn col_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// An Excel workbook with one sheet of `rows` (numbers stay numbers; text is inline).
pub fn xlsx(title: &str, author: &str, rows: &[Vec<String>]) -> Vec<u8> {
    let mut sheet = format!(
        "{XML_DECL}<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>"
    );
    for (r, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, cell) in row.iter().enumerate() {
            let at = format!("{}{}", col_name(c), r + 1);
            if !cell.is_empty() && cell.parse::<f64>().is_ok() {
                sheet.push_str(&format!("<c r=\"{at}\"><v>{cell}</v></c>"));
            } else {
                sheet.push_str(&format!(
                    "<c r=\"{at}\" t=\"inlineStr\"><is><t>{}</t></is></c>",
                    xml_escape(cell)
                ));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    package(&[
        (
            "[Content_Types].xml",
            format!(
                "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/><Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>"
            ),
        ),
        (
            "_rels/.rels",
            root_rels("xl/workbook.xml", "officeDocument"),
        ),
        (
            "xl/workbook.xml",
            format!(
                "{XML_DECL}<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"><Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
            ),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
        ("docProps/core.xml", core_props(title, author)),
    ])
}

/// A Word document with a heading and `paragraphs`.
pub fn docx(title: &str, author: &str, paragraphs: &[String]) -> Vec<u8> {
    let mut body = format!(
        "{XML_DECL}<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body><w:p><w:pPr><w:jc w:val=\"center\"/></w:pPr><w:r><w:rPr><w:b/><w:sz w:val=\"32\"/></w:rPr><w:t>{}</w:t></w:r></w:p>",
        xml_escape(title)
    );
    for p in paragraphs {
        body.push_str(&format!(
            "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
            xml_escape(p)
        ));
    }
    body.push_str(
        "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/></w:sectPr></w:body></w:document>",
    );
    package(&[
        (
            "[Content_Types].xml",
            format!(
                "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/></Types>"
            ),
        ),
        (
            "_rels/.rels",
            root_rels("word/document.xml", "officeDocument"),
        ),
        ("word/document.xml", body),
        ("docProps/core.xml", core_props(title, author)),
    ])
}

const THEME: &str = "<a:theme xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" name=\"Office\"><a:themeElements><a:clrScheme name=\"Office\"><a:dk1><a:sysClr val=\"windowText\" lastClr=\"000000\"/></a:dk1><a:lt1><a:sysClr val=\"window\" lastClr=\"FFFFFF\"/></a:lt1><a:dk2><a:srgbClr val=\"44546A\"/></a:dk2><a:lt2><a:srgbClr val=\"E7E6E6\"/></a:lt2><a:accent1><a:srgbClr val=\"4472C4\"/></a:accent1><a:accent2><a:srgbClr val=\"ED7D31\"/></a:accent2><a:accent3><a:srgbClr val=\"A5A5A5\"/></a:accent3><a:accent4><a:srgbClr val=\"FFC000\"/></a:accent4><a:accent5><a:srgbClr val=\"5B9BD5\"/></a:accent5><a:accent6><a:srgbClr val=\"70AD47\"/></a:accent6><a:hlink><a:srgbClr val=\"0563C1\"/></a:hlink><a:folHlink><a:srgbClr val=\"954F72\"/></a:folHlink></a:clrScheme><a:fontScheme name=\"Office\"><a:majorFont><a:latin typeface=\"Calibri Light\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/></a:majorFont><a:minorFont><a:latin typeface=\"Calibri\"/><a:ea typeface=\"\"/><a:cs typeface=\"\"/></a:minorFont></a:fontScheme><a:fmtScheme name=\"Office\"><a:fillStyleLst><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:fillStyleLst><a:lnStyleLst><a:ln w=\"6350\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln><a:ln w=\"12700\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln><a:ln w=\"19050\"><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:ln></a:lnStyleLst><a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle></a:effectStyleLst><a:bgFillStyleLst><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill><a:solidFill><a:schemeClr val=\"phClr\"/></a:solidFill></a:bgFillStyleLst></a:fmtScheme></a:themeElements></a:theme>";

const PML: &str = "xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\"";

fn text_shape(id: u32, name: &str, y: u64, lines: &[String], size: u32) -> String {
    let mut paras = String::new();
    for l in lines {
        paras.push_str(&format!(
            "<a:p><a:r><a:rPr lang=\"ja-JP\" sz=\"{size}\"/><a:t>{}</a:t></a:r></a:p>",
            xml_escape(l)
        ));
    }
    format!(
        "<p:sp><p:nvSpPr><p:cNvPr id=\"{id}\" name=\"{name}\"/><p:cNvSpPr txBox=\"1\"/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x=\"457200\" y=\"{y}\"/><a:ext cx=\"8229600\" cy=\"1143000\"/></a:xfrm><a:prstGeom prst=\"rect\"><a:avLst/></a:prstGeom></p:spPr><p:txBody><a:bodyPr/><a:lstStyle/>{paras}</p:txBody></p:sp>"
    )
}

/// A PowerPoint deck: one slide per `(heading, bullets)`.
pub fn pptx(title: &str, author: &str, slides: &[(String, Vec<String>)]) -> Vec<u8> {
    let rel = |id: &str, ty: &str, target: &str| {
        format!(
            "<Relationship Id=\"{id}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/{ty}\" Target=\"{target}\"/>"
        )
    };
    let rels = |inner: String| {
        format!(
            "{XML_DECL}<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">{inner}</Relationships>"
        )
    };
    let empty_tree = "<p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/></p:spTree></p:cSld>";
    let mut types = format!(
        "{XML_DECL}<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/ppt/presentation.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml\"/><Override PartName=\"/ppt/slideMasters/slideMaster1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml\"/><Override PartName=\"/ppt/slideLayouts/slideLayout1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml\"/><Override PartName=\"/ppt/theme/theme1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.theme+xml\"/><Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>"
    );
    let mut pres_rels = rel("rId1", "slideMaster", "slideMasters/slideMaster1.xml");
    pres_rels.push_str(&rel("rId2", "theme", "theme/theme1.xml"));
    let mut sld_ids = String::new();
    let mut parts: Vec<(String, String)> = Vec::new();
    for (i, (heading, bullets)) in slides.iter().enumerate() {
        let n = i + 1;
        types.push_str(&format!("<Override PartName=\"/ppt/slides/slide{n}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.presentationml.slide+xml\"/>"));
        pres_rels.push_str(&rel(
            &format!("rId{}", n + 10),
            "slide",
            &format!("slides/slide{n}.xml"),
        ));
        sld_ids.push_str(&format!(
            "<p:sldId id=\"{}\" r:id=\"rId{}\"/>",
            255 + n,
            n + 10
        ));
        let shapes = format!(
            "{}{}",
            text_shape(2, "Title", 457_200, std::slice::from_ref(heading), 3600),
            text_shape(3, "Body", 1_828_800, bullets, 2000)
        );
        parts.push((
            format!("ppt/slides/slide{n}.xml"),
            format!("{XML_DECL}<p:sld {PML}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id=\"1\" name=\"\"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>{shapes}</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"),
        ));
        parts.push((
            format!("ppt/slides/_rels/slide{n}.xml.rels"),
            rels(rel(
                "rId1",
                "slideLayout",
                "../slideLayouts/slideLayout1.xml",
            )),
        ));
    }
    types.push_str("</Types>");
    let mut all: Vec<(String, String)> = vec![
        ("[Content_Types].xml".to_owned(), types),
        (
            "_rels/.rels".to_owned(),
            root_rels("ppt/presentation.xml", "officeDocument"),
        ),
        (
            "ppt/presentation.xml".to_owned(),
            format!(
                "{XML_DECL}<p:presentation {PML}><p:sldMasterIdLst><p:sldMasterId id=\"2147483648\" r:id=\"rId1\"/></p:sldMasterIdLst><p:sldIdLst>{sld_ids}</p:sldIdLst><p:sldSz cx=\"9144000\" cy=\"6858000\" type=\"screen4x3\"/><p:notesSz cx=\"6858000\" cy=\"9144000\"/></p:presentation>"
            ),
        ),
        (
            "ppt/_rels/presentation.xml.rels".to_owned(),
            rels(pres_rels),
        ),
        (
            "ppt/slideMasters/slideMaster1.xml".to_owned(),
            format!(
                "{XML_DECL}<p:sldMaster {PML}>{empty_tree}<p:clrMap bg1=\"lt1\" tx1=\"dk1\" bg2=\"lt2\" tx2=\"dk2\" accent1=\"accent1\" accent2=\"accent2\" accent3=\"accent3\" accent4=\"accent4\" accent5=\"accent5\" accent6=\"accent6\" hlink=\"hlink\" folHlink=\"folHlink\"/><p:sldLayoutIdLst><p:sldLayoutId id=\"2147483649\" r:id=\"rId1\"/></p:sldLayoutIdLst></p:sldMaster>"
            ),
        ),
        (
            "ppt/slideMasters/_rels/slideMaster1.xml.rels".to_owned(),
            rels(format!(
                "{}{}",
                rel("rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"),
                rel("rId2", "theme", "../theme/theme1.xml")
            )),
        ),
        (
            "ppt/slideLayouts/slideLayout1.xml".to_owned(),
            format!(
                "{XML_DECL}<p:sldLayout {PML} type=\"blank\">{empty_tree}<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
            ),
        ),
        (
            "ppt/slideLayouts/_rels/slideLayout1.xml.rels".to_owned(),
            rels(rel(
                "rId1",
                "slideMaster",
                "../slideMasters/slideMaster1.xml",
            )),
        ),
        (
            "ppt/theme/theme1.xml".to_owned(),
            format!("{XML_DECL}{THEME}"),
        ),
        ("docProps/core.xml".to_owned(), core_props(title, author)),
    ];
    all.extend(parts);
    let borrowed: Vec<(&str, String)> = all.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    package(&borrowed)
}

/// Rows for a typical spreadsheet chosen by seed: a customer list, an estimate or a sales table.
pub fn spreadsheet_rows(rng: &mut Rng, title: &str) -> Vec<Vec<String>> {
    if title.contains("顧客") || rng.below(3) == 0 {
        let n = rng.range(10, 120) as usize;
        return text::customer_rows(rng, n);
    }
    let mut rows = vec![vec![
        "品目".to_owned(),
        "数量".to_owned(),
        "単価".to_owned(),
        "金額".to_owned(),
    ]];
    let n = rng.range(5, 60) as usize;
    let mut total = 0;
    for (name, qty, price) in text::line_items(rng, n) {
        total += qty * price;
        rows.push(vec![
            name,
            qty.to_string(),
            price.to_string(),
            (qty * price).to_string(),
        ]);
    }
    rows.push(vec![
        "合計".to_owned(),
        String::new(),
        String::new(),
        total.to_string(),
    ]);
    rows
}
