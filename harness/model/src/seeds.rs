//! The public posts regsim began from. A scenario that reproduces one names it by number
//! (`seed: 001`); reports cite the post itself, by title and address where they are known.

/// One public post and what it reports.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Seed {
    /// `000` … `004`.
    pub id: &'static str,
    /// The post as its readers know it: title, author or site, date.
    pub title: &'static str,
    /// Its address, where known.
    pub url: Option<&'static str>,
}

pub const SEEDS: &[Seed] = &[
    Seed {
        id: "000",
        title: "Qiita post by ssc-ksaitou on the GitLab 16.x CI_JOB_TOKEN allowlist",
        url: Some("https://qiita.com/ssc-ksaitou/items/b1a90e10bcfe4d52637a"),
    },
    Seed {
        id: "001",
        title: "\"GitLab CI: Using a private project's container as an image\", smhk.net, July 2023",
        url: Some("https://smhk.net/note/2023/07/gitlab-ci-using-a-private-projects-container-as-an-image"),
    },
    Seed {
        id: "002",
        title: "GitLab's documentation, \"Dependency Proxy for container images\" (Japanese edition, \
                user/packages/dependency_proxy)",
        url: None,
    },
    Seed {
        id: "003",
        title: "\"GitLabRunnerからDockerの操作がアクセス拒否される\" (2019-04-07), a summary of the author's Qiita post",
        url: Some("https://qiita.com/mikene_koko/items/27c9a4a0c8579a5b1de5"),
    },
    Seed {
        id: "004",
        title: "\"Gitlab CI 拉基礎影像檔時的授權問題\", SAM的程式筆記 (blog.samchu.dev), 2019-05-13",
        url: None,
    },
];

impl Seed {
    /// The seed a scenario names (`001`).
    pub fn find(id: &str) -> Option<&'static Seed> {
        SEEDS.iter().find(|s| s.id == id)
    }

    /// How a report cites it: `seed 001: TITLE <URL>`.
    pub fn citation(&self) -> String {
        match self.url {
            Some(u) => format!("seed {}: {} <{u}>", self.id, self.title),
            None => format!("seed {}: {}", self.id, self.title),
        }
    }
}
