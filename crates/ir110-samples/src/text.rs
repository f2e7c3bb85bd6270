//! Japanese business content (customer lists, estimates, invoices, memos) and its encodings.
//! The names are invented; the shapes follow what small Japanese companies keep on a share.

use crate::Rng;

const FAMILY: &[&str] = &[
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "清水",
    "斎藤",
];
const GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "健太",
    "由美",
    "翔",
    "陽子",
    "大輔",
    "真由美",
    "拓也",
    "恵",
];
const COMPANY: &[&str] = &[
    "株式会社みどり商事",
    "有限会社さくら工業",
    "東和精機株式会社",
    "株式会社ひかり物流",
    "北陸食品株式会社",
    "株式会社青空デザイン",
    "合同会社いろは企画",
    "大和建設株式会社",
    "株式会社ミナト電子",
    "富士見印刷株式会社",
];
const CITY: &[&str] = &[
    "東京都港区芝公園",
    "大阪府大阪市北区梅田",
    "愛知県名古屋市中村区名駅",
    "福岡県福岡市博多区博多駅前",
    "北海道札幌市中央区北一条西",
    "宮城県仙台市青葉区中央",
    "広島県広島市中区紙屋町",
];
const ITEM: &[&str] = &[
    "保守サポート費用",
    "ノートパソコン",
    "複合機リース料",
    "Web サイト改修",
    "システム導入支援",
    "ネットワーク機器",
    "事務用品一式",
    "研修費",
    "ソフトウェアライセンス",
    "配送料",
];

/// A person's name.
pub fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(FAMILY), rng.pick(GIVEN))
}

/// A company name.
pub fn company(rng: &mut Rng) -> String {
    (*rng.pick(COMPANY)).to_owned()
}

/// A line item and its unit price in yen.
pub fn item(rng: &mut Rng) -> (String, u64) {
    ((*rng.pick(ITEM)).to_owned(), rng.range(5, 400) * 1000)
}

/// A customer list (顧客名簿) as CSV rows, header first.
pub fn customer_rows(rng: &mut Rng, n: usize) -> Vec<Vec<String>> {
    let mut rows = vec![vec![
        "顧客番号".to_owned(),
        "会社名".to_owned(),
        "担当者".to_owned(),
        "住所".to_owned(),
        "電話番号".to_owned(),
        "メール".to_owned(),
    ]];
    for i in 0..n {
        rows.push(vec![
            format!("C{:05}", 1000 + i),
            company(rng),
            person(rng),
            format!(
                "{}{}-{}-{}",
                rng.pick(CITY),
                rng.range(1, 9),
                rng.range(1, 30),
                rng.range(1, 20)
            ),
            format!(
                "0{}-{:04}-{:04}",
                rng.range(3, 99),
                rng.below(10_000),
                rng.below(10_000)
            ),
            format!("user{}@example.co.jp", rng.below(100_000)),
        ]);
    }
    rows
}

/// Estimate or invoice lines: (item, quantity, unit price).
pub fn line_items(rng: &mut Rng, n: usize) -> Vec<(String, u64, u64)> {
    (0..n)
        .map(|_| {
            let (name, price) = item(rng);
            (name, rng.range(1, 12), price)
        })
        .collect()
}

/// Rows to CSV text (fields quoted when needed), CRLF line ends as Excel writes them.
pub fn to_csv(rows: &[Vec<String>]) -> String {
    let mut s = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        s.push_str(&cells.join(","));
        s.push_str("\r\n");
    }
    s
}

/// A plain-text business memo or minutes, several paragraphs.
pub fn memo(rng: &mut Rng, title: &str) -> String {
    let mut s = format!(
        "{title}\r\n\r\n作成者: {}\r\n作成日: 2026年{}月{}日\r\n\r\n",
        person(rng),
        rng.range(1, 12),
        rng.range(1, 28)
    );
    let sentences = [
        "本件について関係部署と協議の上、以下のとおり進めることとします。",
        "次回の定例会議までに各担当者は進捗を報告してください。",
        "取引先への連絡は営業部が窓口となります。",
        "見積金額は前回比で約一割の増加となっております。",
        "請求書の発行は月末締め翌月末払いとします。",
        "個人情報の取り扱いには十分注意してください。",
        "バックアップは毎週金曜日に外部ディスクへ取得しています。",
        "パスワードは定期的に変更し、使い回しをしないでください。",
    ];
    for i in 0..rng.range(4, 12) {
        s.push_str(&format!("{}. ", i + 1));
        for _ in 0..rng.range(1, 3) {
            let sentence: &&str = rng.pick(&sentences);
            s.push_str(sentence);
        }
        s.push_str("\r\n");
    }
    s
}

/// Text encodings used for Japanese files on Windows shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// UTF-8 without BOM.
    Utf8,
    /// UTF-8 with BOM (what Excel and Notepad write).
    Utf8Bom,
    /// Shift_JIS (Windows-31J), still the default of many Japanese tools.
    ShiftJis,
    /// EUC-JP (older Unix systems).
    EucJp,
    /// UTF-16LE with BOM.
    Utf16Le,
}

/// Encodes `text`.
pub fn encode(text: &str, encoding: TextEncoding) -> Vec<u8> {
    match encoding {
        TextEncoding::Utf8 => text.as_bytes().to_vec(),
        TextEncoding::Utf8Bom => [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat(),
        TextEncoding::ShiftJis => encoding_rs::SHIFT_JIS.encode(text).0.into_owned(),
        TextEncoding::EucJp => encoding_rs::EUC_JP.encode(text).0.into_owned(),
        TextEncoding::Utf16Le => {
            let mut v = vec![0xff, 0xfe];
            v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            v
        }
    }
}

/// Escapes text for XML.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
